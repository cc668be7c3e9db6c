//! Network namespaces for the tests that run real hosts (root): a switch with hosts
//! plugged in, removal with every process left in them, and Picket's API and store as
//! seen from inside one.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::sys::{add_user, bearer, sh, sh_quiet, ChildGuard};

/// Kills what still runs in namespace `ns`, then deletes it.
pub fn remove(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            sh_quiet("kill", &["-9", pid]);
        }
    }
    sh_quiet("ip", &["netns", "del", ns]);
}

/// A switch (a bridge in its own namespace) and the hosts plugged into it, removed on
/// drop with every process still running in them.
pub struct Lan {
    prefix: &'static str,
    hosts: Vec<String>,
}

impl Lan {
    pub fn new(prefix: &'static str) -> Lan {
        let lan = Lan {
            prefix,
            hosts: Vec::new(),
        };
        let sw = lan.ns("sw");
        sh_quiet("ip", &["netns", "del", &sw]);
        sh("ip", &["netns", "add", &sw]);
        // A plain switch has no address of its own (else its bridge answers IPv6 too).
        for key in ["all", "default"] {
            sh(
                "ip",
                &[
                    "netns",
                    "exec",
                    &sw,
                    "sysctl",
                    "-qw",
                    &format!("net.ipv6.conf.{key}.disable_ipv6=1"),
                ],
            );
        }
        sh("ip", &["-n", &sw, "link", "add", "br0", "type", "bridge"]);
        sh("ip", &["-n", &sw, "link", "set", "br0", "up"]);
        lan
    }

    pub fn ns(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    /// A host `name` with `mac` and `ip`/24 on its eth0, plugged into the switch; its
    /// namespace.
    pub fn plug(&mut self, name: &str, mac: &str, ip: &str) -> String {
        let ns = self.ns(name);
        let (port, tmp) = (
            format!("{}-{name}-p", self.prefix),
            format!("{}-{name}-t", self.prefix),
        );
        sh_quiet("ip", &["netns", "del", &ns]);
        sh("ip", &["netns", "add", &ns]);
        self.hosts.push(ns.clone());
        sh("ip", &["-n", &ns, "link", "set", "lo", "up"]);
        sh(
            "ip",
            &["link", "add", &tmp, "type", "veth", "peer", "name", &port],
        );
        sh("ip", &["link", "set", &tmp, "netns", &ns]);
        sh("ip", &["-n", &ns, "link", "set", &tmp, "name", "eth0"]);
        sh("ip", &["-n", &ns, "link", "set", "eth0", "address", mac]);
        sh(
            "ip",
            &["-n", &ns, "addr", "add", &format!("{ip}/24"), "dev", "eth0"],
        );
        sh("ip", &["-n", &ns, "link", "set", "eth0", "up"]);
        let sw = self.ns("sw");
        sh("ip", &["link", "set", &port, "netns", &sw]);
        sh("ip", &["-n", &sw, "link", "set", &port, "master", "br0"]);
        sh("ip", &["-n", &sw, "link", "set", &port, "up"]);
        ns
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in self.hosts.iter().chain(std::iter::once(&self.ns("sw"))) {
            remove(ns);
        }
    }
}

/// `curl` inside `ns`, where Picket's API listens on loopback `port`; null when it does
/// not answer with JSON.
pub fn api_in(
    ns: &str,
    port: u16,
    auth: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Value {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns, "curl", "-sf", "-X", method])
        .args(["-H", &format!("Authorization: {auth}")])
        .args(["-H", "content-type: application/json"]);
    if let Some(b) = body {
        cmd.args(["--data", b]);
    }
    let out = cmd
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The devices `/api/devices` lists, from inside `ns`.
pub fn devices_in(ns: &str, port: u16, auth: &str) -> Vec<Value> {
    api_in(ns, port, auth, "GET", "/api/devices", None)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The alerts of `rule` in the store under `data` (`picket alerts --json`).
pub fn alerts_of(data: &Path, rule: &str) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["alerts", "--json", "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|a| a["rule"] == rule)
        .collect()
}

/// `picket run` inside `ns`, its API on loopback `port`, its store under `dir/data`, an
/// empty log, no journal and this machine's own collectors off, plus `extra` YAML (the
/// `lan:` or `traffic:` the test is about); with an admin's bearer token.
pub fn picket_in(ns: &str, dir: &Path, port: u16, extra: &str) -> (ChildGuard, String) {
    let data = dir.join("data");
    let d = data.to_str().unwrap().to_string();
    let log = dir.join("empty.log");
    std::fs::write(&log, "").unwrap();
    let config = dir.join("picket.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {d}\nlisten: 127.0.0.1:{port}\nlogs: [{{ path: {} }}]\njournald: \"off\"\n\
             snapshot_interval_secs: 0\nchecks_interval_secs: 0\nmetrics_interval_secs: 0\n\
             file_integrity: {{ enabled: false }}\n{extra}",
            log.display()
        ),
    )
    .unwrap();
    add_user(&d, "alice", "admin", "correct horse battery");
    let auth = bearer(&d, "alice");
    let child = ChildGuard(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                env!("CARGO_BIN_EXE_picket"),
                "run",
                "--config",
            ])
            .arg(&config)
            .args(["--rules", concat!(env!("CARGO_MANIFEST_DIR"), "/rules")])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    (child, auth)
}
