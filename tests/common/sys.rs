//! System fixtures for the tests that drive real components as root: network namespaces,
//! a hand-started systemd-journald, OpenSSH's sshd. Every fixture cleans up on drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// These tests need root (namespaces, journald, sshd). They fail, never skip, without it:
/// the README's test command runs them as root.
pub fn require_root(what: &str) {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "{what} needs root (network namespaces, journald, sshd): run the README's test command, `sudo tests/run.sh`");
}

/// Runs a command (no shell), panicking with its output on failure.
pub fn sh(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Like [`sh`] but ignores failure (cleanup).
pub fn sh_quiet(program: &str, args: &[&str]) {
    let _ = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Waits until `f` returns `Some`, or panics after `timeout` with `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Two namespaces joined by a veth pair: a server side and a client side.
pub struct NetnsPair {
    pub server: String,
    pub client: String,
    pub server_ip: String,
    pub client_ip: String,
}

impl NetnsPair {
    /// `prefix` keeps names unique per test; addresses come from 203.0.113.0/24.
    pub fn new(prefix: &str, server_ip: &str, client_ip: &str) -> NetnsPair {
        let server = format!("{prefix}-srv");
        let client = format!("{prefix}-cli");
        for ns in [&server, &client] {
            sh_quiet("ip", &["netns", "del", ns]);
            sh("ip", &["netns", "add", ns]);
            sh("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        let (vs, vc) = (format!("{prefix}-s"), format!("{prefix}-c"));
        sh(
            "ip",
            &["link", "add", &vs, "type", "veth", "peer", "name", &vc],
        );
        sh("ip", &["link", "set", &vs, "netns", &server]);
        sh("ip", &["link", "set", &vc, "netns", &client]);
        sh(
            "ip",
            &[
                "-n",
                &server,
                "addr",
                "add",
                &format!("{server_ip}/24"),
                "dev",
                &vs,
            ],
        );
        sh(
            "ip",
            &[
                "-n",
                &client,
                "addr",
                "add",
                &format!("{client_ip}/24"),
                "dev",
                &vc,
            ],
        );
        sh("ip", &["-n", &server, "link", "set", &vs, "up"]);
        sh("ip", &["-n", &client, "link", "set", &vc, "up"]);
        NetnsPair {
            server,
            client,
            server_ip: server_ip.into(),
            client_ip: client_ip.into(),
        }
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        sh_quiet("ip", &["netns", "pids", &self.server]);
        for ns in [&self.server, &self.client] {
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    sh_quiet("kill", &["-9", pid]);
                }
            }
            sh_quiet("ip", &["netns", "del", ns]);
        }
    }
}

/// Makes sure a systemd-journald is running and `/dev/log` reaches it, as on a fresh
/// Debian 12 (where it is the only logger). Starts it by hand when it is not running:
/// it needs no systemd as PID 1.
// journald is left running on purpose, as the host's logger: later tests and processes log
// into it, and it must outlive this test process.
#[allow(clippy::zombie_processes)]
pub fn ensure_journald() {
    let socket = Path::new("/run/systemd/journal/socket");
    let running = Command::new("pgrep")
        .args(["-x", "systemd-journal"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !running || !socket.exists() {
        std::fs::create_dir_all("/run/systemd/journal").unwrap();
        Command::new("/lib/systemd/systemd-journald")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting /lib/systemd/systemd-journald (package systemd)");
        wait_for("journald's sockets", Duration::from_secs(10), || {
            Path::new("/run/systemd/journal/dev-log")
                .exists()
                .then_some(())
        });
    }
    // Point /dev/log at journald unless it already is (rsyslog's own socket would steal it).
    let target = std::fs::read_link("/dev/log").ok();
    if target.as_deref() != Some(Path::new("/run/systemd/journal/dev-log")) {
        let _ = std::fs::remove_file("/dev/log");
        std::os::unix::fs::symlink("/run/systemd/journal/dev-log", "/dev/log").unwrap();
    }
}

/// OpenSSH's sshd, started in a namespace with its own host key and config, logging to
/// syslog (`/dev/log`) at the AUTH facility exactly as Debian's does.
pub struct Sshd {
    pub dir: tempfile::TempDir,
    pid_file: PathBuf,
}

impl Sshd {
    pub fn start(netns: &str, listen: &str) -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("host_ed25519");
        sh(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()],
        );
        std::fs::create_dir_all("/run/sshd").unwrap();
        let pid_file = dir.path().join("sshd.pid");
        let config = dir.path().join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port 22\nListenAddress {listen}\nHostKey {}\nPidFile {}\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\nUsePAM yes\nPermitRootLogin no\nSyslogFacility AUTH\nLogLevel INFO\n",
                key.display(),
                pid_file.display()
            ),
        )
        .unwrap();
        sh(
            "ip",
            &[
                "netns",
                "exec",
                netns,
                "/usr/sbin/sshd",
                "-f",
                config.to_str().unwrap(),
            ],
        );
        wait_for("sshd's pid file", Duration::from_secs(10), || {
            pid_file.exists().then_some(())
        });
        Sshd { dir, pid_file }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            sh_quiet("kill", &[pid.trim()]);
        }
    }
}

/// One SSH password login attempt from `netns` with a wrong password, `prompts` tries.
/// Returns once the client gave up.
pub fn ssh_fail(netns: &str, user: &str, host: &str, prompts: u32, scratch: &Path) {
    let askpass = scratch.join("askpass.sh");
    if !askpass.exists() {
        std::fs::write(&askpass, "#!/bin/sh\necho wrong-password\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let status = Command::new("timeout")
        .args(["30", "ip", "netns", "exec", netns, "ssh"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "PreferredAuthentications=password",
        ])
        .args([
            "-o",
            &format!("NumberOfPasswordPrompts={prompts}"),
            "-o",
            "ConnectTimeout=5",
            "-l",
            user,
            host,
            "true",
        ])
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", "none")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("running ssh (package openssh-client)");
    assert_eq!(
        status.code(),
        Some(255),
        "ssh as {user} should fail authentication"
    );
}

/// A `picket run` child, killed on drop.
pub struct Picket {
    pub child: Child,
}

impl Picket {
    /// `picket run ARGS`, on an ephemeral port unless ARGS say `--listen`, with the
    /// repository's rules unless they say `--rules` (a root test must not seed
    /// /etc/picket/rules on the machine), and without the process and port snapshots
    /// unless they say `--snapshot-interval` or `--config`; likewise the periodic
    /// configuration checks (`--checks-interval`) and file integrity (`--file-integrity`);
    /// and never LAN discovery or traffic accounting unless they say `--lan-interval` or
    /// `--traffic-interval`.
    pub fn start(args: &[&str]) -> Picket {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
        cmd.arg("run").args(args);
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        if !args.contains(&"--rules") {
            cmd.args(["--rules", concat!(env!("CARGO_MANIFEST_DIR"), "/rules")]);
        }
        // This host's own processes and ports are not the subject of tests about logs:
        // they would add alerts that depend on the machine.
        if !args.contains(&"--snapshot-interval") && !args.contains(&"--config") {
            cmd.args(["--snapshot-interval", "0"]);
        }
        // Nor is its configuration: checks run when a test asks (POST /api/config/run).
        if !args.contains(&"--checks-interval") && !args.contains(&"--config") {
            cmd.args(["--checks-interval", "0"]);
        }
        // Nor are its files and logs (a logrotate run would add alerts).
        if !args.contains(&"--file-integrity") && !args.contains(&"--config") {
            cmd.args(["--file-integrity", "off"]);
        }
        // Nor is this host's LAN: a test scans only networks of its own namespaces.
        if !args.contains(&"--lan-interval") {
            cmd.args(["--lan-interval", "0"]);
        }
        // Nor is its traffic (TRAFFIC_PEAK from the machine's own connections).
        if !args.contains(&"--traffic-interval") {
            cmd.args(["--traffic-interval", "0"]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .expect("starting picket run");
        Picket { child }
    }
    /// [`Picket::start`] on a free loopback port; returns once the API answers, with the
    /// address.
    pub fn serve(args: &[&str]) -> (Picket, String) {
        let addr = format!("127.0.0.1:{}", super::http::free_port());
        let mut all = args.to_vec();
        all.extend(["--listen", addr.as_str()]);
        let p = Picket::start(&all);
        wait_for("the API", Duration::from_secs(20), || {
            std::net::TcpStream::connect(&addr).ok().map(|_| ())
        });
        (p, addr)
    }

    /// SIGTERM and wait: a clean stop.
    pub fn stop(mut self) {
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
    /// SIGKILL: a crash.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Picket {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `picket ARGS` with `stdin`, panicking with its error output on failure; its
/// standard output.
pub fn picket_cli(args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut c = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "picket {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `picket user add NAME [--role ROLE]` with `password` on stdin, in data dir `data`.
/// A new API token for `user` as an `Authorization` header value.
pub fn bearer(data: &str, user: &str) -> String {
    let t = picket_cli(
        &["token", "create", "t", "--user", user, "--data-dir", data],
        "",
    );
    format!("Bearer {}", t.trim())
}

pub fn add_user(data: &str, name: &str, role: &str, password: &str) {
    picket_cli(
        &[
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--data-dir",
            data,
        ],
        &format!("{password}\n"),
    );
}

/// A rule directory `dir/rules` holding copies of the named default rules.
pub fn copy_rules(dir: &Path, files: &[&str]) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir(&rules).unwrap();
    for f in files {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").join(f),
            rules.join(f),
        )
        .unwrap();
    }
    rules
}

/// A child process killed (and reaped) on drop, so a failing test leaves none behind.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
