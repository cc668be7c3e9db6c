//! The default checks against the fixture roots in `tests/fixtures/hosts/`: every check
//! PASSes on `hardened` and FAILs or WARNs on `weak`, every planted weakness is named with
//! its file (and line) and fix, `picket check --fail-on high` exits accordingly, and the
//! checks run on this machine's own `/` without an ERROR.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use picket::checks::load::{defaults, load_dir, DEFAULT_CHECKS};
use picket::checks::{self, CheckResult, Host, Status};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn hosts_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hosts")
}

/// Copies a tree, symlinks as symlinks (the fixtures have a merged-/usr `/bin`).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dest).unwrap();
        } else if ft.is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// A copy of a fixture root with the modes (and, as root, owners) of
/// tests/fixtures/hosts/modes.txt, which git cannot store.
fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&hosts_dir().join(name), dir.path());
    let modes = std::fs::read_to_string(hosts_dir().join("modes.txt")).unwrap();
    let mut applied = 0;
    for line in modes
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 4, "modes.txt: {line}");
        if f[0] != name {
            continue;
        }
        let p = dir.path().join(f[1]);
        if is_root() {
            // Owner first: chown clears setuid and setgid bits.
            let (uid, gid) = f[3].split_once(':').unwrap();
            std::os::unix::fs::chown(&p, uid.parse().ok(), gid.parse().ok()).unwrap();
        }
        let mode = u32::from_str_radix(f[2], 8).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        applied += 1;
    }
    assert!(applied > 0, "no modes for fixture {name}");
    dir
}

/// Checks whose results depend on owners, which only root can give the copy.
fn needs_owners(id: &str) -> bool {
    id.starts_with("file-") || id == "accounts-home-directories"
}

fn run_on(root: &Path) -> BTreeMap<String, CheckResult> {
    let loaded = defaults();
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let host = Host::new(root).unwrap();
    checks::run(&loaded.checks, &host)
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect()
}

#[test]
fn every_check_file_is_embedded_and_compiles() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".rhai"))
        .collect();
    let embedded: BTreeSet<String> = DEFAULT_CHECKS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        embedded, on_disk,
        "src/checks/load.rs DEFAULT_CHECKS must list exactly the files in checks/"
    );
    let from_dir = load_dir(&dir).unwrap();
    assert!(from_dir.errors.is_empty(), "{:?}", from_dir.errors);
    assert_eq!(from_dir.checks.len(), DEFAULT_CHECKS.len());
}

#[test]
fn every_check_passes_on_the_hardened_host() {
    let root = fixture("hardened");
    let results = run_on(root.path());
    assert_eq!(results.len(), DEFAULT_CHECKS.len());
    for (id, r) in results {
        if needs_owners(&id) && !is_root() {
            eprintln!("{id}: owners can only be set as root; not asserted");
            continue;
        }
        assert_eq!(r.status, Status::Pass, "{id}: {:?}", r.evidence);
    }
}

#[test]
fn every_check_fails_or_warns_on_the_weak_host() {
    let root = fixture("weak");
    let results = run_on(root.path());
    assert_eq!(results.len(), DEFAULT_CHECKS.len());
    for (id, r) in &results {
        assert!(
            matches!(r.status, Status::Fail | Status::Warn),
            "{id} is {:?} on weak: {:?}",
            r.status,
            r.evidence
        );
        assert!(!r.remediation.is_empty(), "{id} has no remediation");
    }
    // sshd findings name the file and line that set the value (first value wins).
    let dropin = "/etc/ssh/sshd_config.d/50-cloud.conf";
    for (id, file, line, detail) in [
        ("ssh-permit-root-login", dropin, 3, "PermitRootLogin yes"),
        (
            "ssh-password-authentication",
            dropin,
            2,
            "PasswordAuthentication yes",
        ),
        (
            "ssh-permit-empty-passwords",
            dropin,
            4,
            "PermitEmptyPasswords yes",
        ),
        (
            "ssh-x11-forwarding",
            "/etc/ssh/sshd_config",
            5,
            "X11Forwarding yes",
        ),
        (
            "ssh-max-auth-tries",
            "/etc/ssh/sshd_config",
            6,
            "MaxAuthTries 10",
        ),
    ] {
        let e = &results[id].evidence[0];
        assert_eq!(
            (e.file.as_deref(), e.line, e.detail.as_str()),
            (Some(file), Some(line), detail),
            "{id}"
        );
        assert_eq!(results[id].status, Status::Fail, "{id}");
    }
    // Account findings name every planted account with its line.
    let shown =
        |id: &str| -> Vec<String> { results[id].evidence.iter().map(|e| e.to_string()).collect() };
    assert_eq!(
        shown("accounts-uid0-only-root"),
        ["/etc/passwd:4: toor has UID 0"]
    );
    assert_eq!(
        shown("accounts-no-empty-passwords"),
        [
            "/etc/passwd:5: guest has an empty password field",
            "/etc/shadow:4: toor has an empty password hash",
            "/etc/shadow:5: guest has an empty password hash",
        ]
    );
    assert_eq!(
        shown("accounts-system-no-shell"),
        [
            "/etc/passwd:3: www-data (UID 33) has the login shell /bin/bash",
            "/etc/passwd:4: toor (UID 0) has the login shell /bin/sh",
        ]
    );
    assert!(
        results["file-shadow"].evidence[0]
            .detail
            .starts_with("mode 0644"),
        "{:?}",
        results["file-shadow"].evidence
    );
}

/// The evidence of a check as `picket check` prints it, one finding per string.
fn shown(r: &CheckResult) -> Vec<String> {
    r.evidence.iter().map(|e| e.to_string()).collect()
}

#[test]
fn weak_sshd_algorithms_are_named_with_their_line() {
    let root = fixture("weak");
    let results = run_on(root.path());
    for (id, line, weak) in [
        ("ssh-weak-ciphers", 8, "weak: aes128-cbc, 3des-cbc "),
        (
            "ssh-weak-macs",
            9,
            "weak: umac-64-etm@openssh.com, umac-64@openssh.com, hmac-md5, hmac-sha1-96 ",
        ),
        (
            "ssh-weak-kex",
            10,
            "weak: diffie-hellman-group1-sha1, diffie-hellman-group14-sha1 ",
        ),
    ] {
        let r = &results[id];
        assert_eq!(r.status, Status::Fail, "{id}");
        let e = &r.evidence[0];
        assert_eq!(
            (e.file.as_deref(), e.line),
            (Some("/etc/ssh/sshd_config"), Some(line)),
            "{id}"
        );
        assert!(e.detail.contains(weak), "{id}: {}", e.detail);
    }
    // `+` appended to the default and `^` put the weak ones first.
    assert!(results["ssh-weak-kex"].evidence[0]
        .detail
        .contains("(sshd offers diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,sntrup761x25519-sha512,"));
    assert!(results["ssh-weak-macs"]
        .remediation
        .contains("MACs hmac-sha2-512-etm"));
}

#[test]
fn planted_files_homes_firewall_and_cron_weaknesses_are_named() {
    let root = fixture("weak");
    let results = run_on(root.path());
    let status = |id: &str| results[id].status;

    assert_eq!(status("files-world-writable"), Status::Fail);
    // Owners are whoever runs the test unless it runs as root: compare up to the owner.
    let without_owner = |r: &CheckResult| -> Vec<String> {
        shown(r)
            .iter()
            .map(|s| s.split(", owner").next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        without_owner(&results["files-world-writable"]),
        [
            "/etc/app.conf world-writable file (mode 0666",
            "/etc/cron.d/backup world-writable file (mode 0666",
            "/etc/cron.daily/logrotate world-writable file (mode 0777",
            "/etc/group world-writable file (mode 0666",
            "/etc/gshadow world-writable file (mode 0666",
            "/var/www/uploads world-writable directory without the sticky bit (mode 0777",
        ]
    );
    // /var/tmp is sticky: seen, not entered, not a finding.
    assert!(!shown(&results["files-world-writable"])
        .iter()
        .any(|s| s.contains("/var/tmp")));

    // Only the setuid file no package lists: /usr/bin/su is listed as /bin/su (merged
    // /usr), /usr/bin/at.real through a diversion of /usr/bin/at.
    assert_eq!(status("files-unpackaged-setid"), Status::Fail);
    let setid = shown(&results["files-unpackaged-setid"]);
    assert_eq!(setid.len(), 1, "{setid:?}");
    assert!(
        setid[0].starts_with("/usr/local/bin/rootshell is setuid (mode 4755"),
        "{setid:?}"
    );

    if is_root() {
        assert_eq!(status("accounts-home-directories"), Status::Fail);
        assert_eq!(
            shown(&results["accounts-home-directories"]),
            [
                "/root: home of root (UID 0): mode 0700",
                "/home/guest: home of guest (UID 1001): mode 0777: group- and world-writable; others can list and enter it",
                "/home/alice: home of alice (UID 1000): mode 0755: others can list and enter it",
            ]
        );
    }

    // Not the running host: the boot configuration is read, and the evidence says so.
    assert_eq!(status("firewall-input-policy"), Status::Warn);
    assert_eq!(
        shown(&results["firewall-input-policy"]),
        [
            "the running ruleset was not read; /etc/nftables.conf is what nftables.service (not enabled) loads at boot",
            "/etc/nftables.conf:8: type filter hook input priority filter; (policy accept, no drop or reject rule)",
            "listening on non-loopback addresses: tcp 0.0.0.0:22, tcp 0.0.0.0:6379",
        ]
    );

    assert_eq!(status("cron-world-writable"), Status::Fail);
    assert_eq!(
        shown(&results["cron-world-writable"]),
        [
            "/etc/cron.d/backup: crontab is world-writable (mode 0666)",
            "/etc/cron.daily/logrotate: cron script is world-writable (mode 0777)",
        ]
    );
    assert_eq!(status("cron-jobs-from-tmp"), Status::Fail);
    assert_eq!(
        shown(&results["cron-jobs-from-tmp"]),
        [
            "/etc/crontab:11: */5 * * * * root /tmp/.x/update.sh >/dev/null 2>&1 (runs /tmp/.x/update.sh)",
            "/etc/cron.d/backup:2: 0 3 * * * root sh /var/tmp/backup.sh (runs /var/tmp/backup.sh with sh)",
            "/var/spool/cron/crontabs/alice:2: @reboot cd /dev/shm && ./kworker -o pool.example:3333 (runs ./kworker after cd into a scratch directory)",
        ]
    );
}

#[test]
fn the_firewall_check_reads_what_the_image_would_load() {
    let root = fixture("hardened");
    let etc = root.path().join("etc");
    let run = || run_on(root.path()).remove("firewall-input-policy").unwrap();
    let r = run();
    assert_eq!(r.status, Status::Pass, "{:?}", r.evidence);
    assert_eq!(
        shown(&r),
        [
            "the running ruleset was not read; /etc/nftables.conf is what nftables.service (enabled) loads at boot",
            "/etc/nftables.conf:7: type filter hook input priority filter; policy drop;",
        ]
    );
    // An accept policy with a reject rule filters too.
    std::fs::write(
        etc.join("nftables.conf"),
        "table ip f {\n  chain in {\n    type filter hook input priority 0; policy accept;\n    tcp dport 6379 reject with tcp reset\n  }\n}\n",
    )
    .unwrap();
    let r = run();
    assert_eq!(r.status, Status::Pass, "{:?}", r.evidence);
    assert_eq!(
        r.evidence[2].to_string(),
        "/etc/nftables.conf:4: tcp dport 6379 reject with tcp reset"
    );
    // Tables without an input chain do not filter what comes in.
    std::fs::write(
        etc.join("nftables.conf"),
        "table ip nat {\n  chain post {\n    type nat hook postrouting priority 100;\n    masquerade\n  }\n}\n",
    )
    .unwrap();
    assert_eq!(run().status, Status::Warn);
    // Only `flush ruleset`: nothing is loaded at boot.
    std::fs::write(
        etc.join("nftables.conf"),
        "#!/usr/sbin/nft -f\nflush ruleset\n",
    )
    .unwrap();
    let r = run();
    assert_eq!(r.status, Status::Fail);
    assert_eq!(
        r.evidence[1].detail,
        "/etc/nftables.conf: no table, no ruleset"
    );
    // iptables-persistent's file when there is no nftables.conf.
    std::fs::remove_file(etc.join("nftables.conf")).unwrap();
    std::fs::create_dir_all(etc.join("iptables")).unwrap();
    std::fs::write(
        etc.join("iptables/rules.v4"),
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n",
    )
    .unwrap();
    let r = run();
    assert_eq!(r.status, Status::Pass, "{:?}", r.evidence);
    assert_eq!(
        r.evidence[1].to_string(),
        "/etc/iptables/rules.v4:2: :INPUT DROP [0:0]"
    );
    std::fs::write(
        etc.join("iptables/rules.v4"),
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n",
    )
    .unwrap();
    assert_eq!(run().status, Status::Warn);
    // Nothing configured at all.
    std::fs::remove_dir_all(etc.join("iptables")).unwrap();
    let r = run();
    assert_eq!(r.status, Status::Fail);
    assert!(
        r.evidence[0].detail.contains("no firewall is configured"),
        "{:?}",
        r.evidence
    );
}

#[test]
fn cron_jobs_that_only_mention_tmp_pass() {
    let root = fixture("hardened");
    let spool = root.path().join("var/spool/cron/crontabs");
    for (job, flagged) in [
        ("0 4 * * * find /tmp -mtime +7 -delete", false),
        ("0 4 * * * /usr/bin/tmpreaper 7d /tmp", false),
        ("0 4 * * * cd /tmp; ./run.sh", true),
        ("0 4 * * * HOME=/tmp nice -n 10 /var/tmp/x", true),
        ("0 4 * * * bash -c \"/dev/shm/.x --quiet\"", true),
        ("0 4 * * * python3 -u /tmp/job.py", true),
        ("0 4 * * * timeout 60 /tmp/x", true),
        ("0 4 * * * /usr/local/bin/ok && /tmp/next", true),
        ("MAILTO=/tmp/x", false),
    ] {
        std::fs::write(spool.join("alice"), format!("{job}\n")).unwrap();
        let r = run_on(root.path()).remove("cron-jobs-from-tmp").unwrap();
        let want = if flagged { Status::Fail } else { Status::Pass };
        assert_eq!(r.status, want, "{job}: {:?}", r.evidence);
    }
    // cron skips /etc/cron.d files with a dot in the name; so does the check.
    std::fs::write(
        root.path().join("etc/cron.d/old.dpkg-dist"),
        "* * * * * root /tmp/x\n",
    )
    .unwrap();
    std::fs::write(spool.join("alice"), "\n").unwrap();
    let r = run_on(root.path()).remove("cron-jobs-from-tmp").unwrap();
    assert_eq!(r.status, Status::Pass, "{:?}", r.evidence);
}

#[test]
fn sshd_defaults_apply_when_a_keyword_is_absent() {
    let root = fixture("hardened");
    std::fs::write(root.path().join("etc/ssh/sshd_config"), "Port 22\n").unwrap();
    let results = run_on(root.path());
    let r = &results["ssh-permit-root-login"];
    assert_eq!(r.status, Status::Warn);
    assert_eq!(
        r.evidence[0].detail,
        "PermitRootLogin not set; sshd's default is prohibit-password"
    );
    assert_eq!(results["ssh-max-auth-tries"].status, Status::Warn);
    assert_eq!(results["ssh-password-authentication"].status, Status::Fail);
    assert_eq!(results["ssh-permit-empty-passwords"].status, Status::Pass);
    // No sshd at all: the sshd checks do not apply.
    std::fs::remove_file(root.path().join("etc/ssh/sshd_config")).unwrap();
    let results = run_on(root.path());
    assert_eq!(results["ssh-x11-forwarding"].status, Status::NotApplicable);
}

fn picket(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(args)
        .output()
        .unwrap()
}

/// The "done when": `picket check --root` on the weak host names every planted
/// weakness with its file (and line) and its fix.
#[test]
fn the_table_names_every_planted_weakness_with_its_file_and_fix() {
    let weak = fixture("weak");
    let out = picket(&["check", "--root", weak.path().to_str().unwrap()]);
    let table = String::from_utf8(out.stdout).unwrap();
    let planted = [
        "/etc/ssh/sshd_config.d/50-cloud.conf:2: PasswordAuthentication yes",
        "/etc/ssh/sshd_config.d/50-cloud.conf:3: PermitRootLogin yes",
        "/etc/ssh/sshd_config.d/50-cloud.conf:4: PermitEmptyPasswords yes",
        "/etc/ssh/sshd_config:5: X11Forwarding yes",
        "/etc/ssh/sshd_config:6: MaxAuthTries 10",
        "/etc/ssh/sshd_config:8: Ciphers aes256-ctr,aes128-cbc,3des-cbc: weak: aes128-cbc, 3des-cbc",
        "/etc/ssh/sshd_config:9: MACs +hmac-md5,hmac-sha1-96: weak:",
        "/etc/ssh/sshd_config:10: KexAlgorithms ^diffie-hellman-group1-sha1,diffie-hellman-group14-sha1: weak:",
        "/etc/shadow: mode 0644",
        "/etc/gshadow: mode 0666",
        "/etc/passwd: mode 0664",
        "/etc/group: mode 0666",
        "/etc/sudoers: mode 0660",
        "/etc/passwd:4: toor has UID 0",
        "/etc/passwd:5: guest has an empty password field",
        "/etc/shadow:4: toor has an empty password hash",
        "/etc/passwd:3: www-data (UID 33) has the login shell /bin/bash",
        "/home/guest: home of guest (UID 1001): mode 0777",
        "/home/alice: home of alice (UID 1000): mode 0755",
        "/etc/app.conf world-writable file",
        "/var/www/uploads world-writable directory without the sticky bit",
        "/usr/local/bin/rootshell is setuid",
        "/etc/nftables.conf:8: type filter hook input priority filter; (policy accept",
        "/etc/cron.d/backup: crontab is world-writable",
        "/etc/cron.daily/logrotate: cron script is world-writable",
        "/etc/crontab:11: */5 * * * * root /tmp/.x/update.sh",
        "/etc/cron.d/backup:2: 0 3 * * * root sh /var/tmp/backup.sh",
        "/var/spool/cron/crontabs/alice:2: @reboot cd /dev/shm && ./kworker",
    ];
    for p in planted {
        assert!(table.contains(p), "missing {p:?} in\n{table}");
    }
    // Each FAIL or WARN row is followed (after its evidence lines) by its fix.
    let results = run_on(weak.path());
    for r in results.values() {
        assert!(matches!(r.status, Status::Fail | Status::Warn), "{}", r.id);
        let row = table
            .lines()
            .position(|l| l.contains(&format!(" {} ", r.id)))
            .unwrap_or_else(|| panic!("no row for {}", r.id));
        let fix = table
            .lines()
            .skip(row + 1)
            .find(|l| l.trim_start().starts_with("fix: "))
            .unwrap();
        let start: String = r.remediation.chars().take(40).collect();
        assert!(fix.contains(&start), "{}: {fix}", r.id);
    }
}

#[test]
fn the_cli_exit_status_follows_fail_on() {
    let weak = fixture("weak");
    let hardened = fixture("hardened");
    let weak_root = weak.path().to_str().unwrap();
    let out = picket(&["check", "--root", weak_root, "--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("/etc/ssh/sshd_config.d/50-cloud.conf:3: PermitRootLogin yes"),
        "{table}"
    );
    assert!(table.contains("fix: Set `PermitRootLogin no`"), "{table}");
    // Without --fail-on the findings are printed and the exit is 0.
    assert_eq!(
        picket(&["check", "--root", weak_root]).status.code(),
        Some(0)
    );

    let out = picket(&[
        "check",
        "--root",
        hardened.path().to_str().unwrap(),
        "--fail-on",
        "high",
        "--json",
    ]);
    if is_root() {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), DEFAULT_CHECKS.len());
    assert!(lines
        .iter()
        .all(|l| l["status"].is_string() && l["severity"].is_string()));

    let out = picket(&["check", "--root", "/no/such/root"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("root /no/such/root is not a directory"),
        "{err}"
    );
}

#[test]
fn a_bad_check_file_is_reported_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "id: bad\ntitle: B\ncategory: ssh\nseverity: high\nremediation: r\nsshd: {keyword: X, expect: [a], max: 3}\n",
    )
    .unwrap();
    let out = picket(&[
        "check",
        "--root",
        "/",
        "--checks",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.yaml:6:7: give either `expect`"), "{err}");
    // A Rhai check is loaded from the directory too, and placed the same way.
    std::fs::write(
        dir.path().join("bad.rhai"),
        "const META = #{ id: \"b\", title: \"B\", category: \"cron\", severity: \"low\", remediation: \"r\" };\nfn check(host) {\n  let = 1;\n}\n",
    )
    .unwrap();
    let out = picket(&[
        "check",
        "--root",
        "/",
        "--checks",
        dir.path().to_str().unwrap(),
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.rhai:3:"), "{err}");
    assert!(err.contains("2 error(s) in the checks"), "{err}");
}

#[test]
fn the_checks_run_on_this_machine() {
    let started = std::time::Instant::now();
    let results = run_on(Path::new("/"));
    eprintln!("the checks took {:?} on /", started.elapsed());
    assert_eq!(results.len(), DEFAULT_CHECKS.len());
    for (id, r) in &results {
        assert!(!r.evidence.is_empty(), "{id} gave no evidence");
        // No check may break on a real host; without root, only unreadable files
        // (/etc/shadow) may make one an ERROR.
        let denied = r
            .evidence
            .iter()
            .any(|e| e.detail.contains("Permission denied"));
        if is_root() || !denied {
            assert_ne!(r.status, Status::Error, "{id}: {:?}", r.evidence);
        }
    }
}
