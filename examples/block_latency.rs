//! How long from the log line that crosses a rule's threshold to the address being in
//! the kernel's ban set, over many attackers. Needs root: it makes a network namespace,
//! runs `picket run` in it with `block_ip` enforced, and watches nftables there (the
//! host's firewall is not touched).
//!
//!     cargo build --release && sudo target/release/examples/block_latency 200
//!
//! Prints p50, p90, p99 and the maximum. Addresses come from 198.51.100.0/24 and
//! 203.0.113.0/24, inside the namespace only.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NS: &str = "picket-latency";

fn sh(args: &[&str]) -> std::process::Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn in_set(ip: &str) -> bool {
    let out = sh(&[
        "ip", "netns", "exec", NS, "nft", "list", "set", "inet", "picket", "blocked4",
    ]);
    String::from_utf8_lossy(&out.stdout).contains(ip)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100)
        .clamp(1, 500);
    let picket = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("picket"))
        .filter(|p| p.exists())
        .expect("build picket first: cargo build --release");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("brute.yaml"),
        "id: brute\ntitle: Brute force\nseverity: high\nmitre: [T1110.001]\n\
         match: { type: FAILED_LOGIN }\n\
         threshold: { count: 5, within: 60s, group_by: [src_ip] }\nresponse: [block_ip]\n",
    )
    .unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, "").unwrap();
    let config = dir.path().join("picket.yaml");
    std::fs::write(
        &config,
        "snapshot_interval_secs: 0\nmetrics_interval_secs: 0\nchecks_interval_secs: 0\n\
         file_integrity: {enabled: false}\njournald: off\n\
         response:\n  block_ip: {mode: enforce, ban_time_secs: 300}\n",
    )
    .unwrap();
    let _ = sh(&["ip", "netns", "del", NS]);
    assert!(
        sh(&["ip", "netns", "add", NS]).status.success(),
        "needs root"
    );
    let _ = sh(&["ip", "-n", NS, "link", "set", "lo", "up"]);
    let data = dir.path().join("data");
    let mut daemon = Command::new("ip")
        .args(["netns", "exec", NS])
        .arg(&picket)
        .args(["run", "--config"])
        .arg(&config)
        .arg("--rules")
        .arg(&rules)
        .arg("--log")
        .arg(&log)
        .arg("--data-dir")
        .arg(&data)
        .args(["--listen", "127.0.0.1:8470"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Ready once the tailer saved its first checkpoint.
    let start = Instant::now();
    loop {
        let ready = rusqlite::Connection::open(data.join("picket.sqlite"))
            .ok()
            .and_then(|c| {
                c.query_row(
                    "SELECT 1 FROM checkpoints WHERE name LIKE 'file:%'",
                    [],
                    |_| Ok(()),
                )
                .ok()
            })
            .is_some();
        if ready {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "picket did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let mut took = Vec::with_capacity(n);
    for i in 0..n {
        let ip = if i < 250 {
            format!("198.51.100.{}", i + 1)
        } else {
            format!("203.0.113.{}", i - 249)
        };
        let line = |k: usize| {
            format!(
                "2026-11-21T10:00:0{k}+00:00 web sshd[{k}]: Failed password for root from {ip} port 5000{k} ssh2\n"
            )
        };
        for k in 1..5 {
            f.write_all(line(k).as_bytes()).unwrap();
        }
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        f.write_all(line(5).as_bytes()).unwrap();
        f.flush().unwrap();
        while !in_set(&ip) {
            assert!(t.elapsed() < Duration::from_secs(5), "{ip} was not blocked");
        }
        took.push(t.elapsed());
    }
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let _ = daemon.wait();
    let _ = sh(&["ip", "netns", "del", NS]);
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q).ceil() as usize).clamp(1, took.len()) - 1];
    println!(
        "{n} bans, from the line crossing the threshold to the nft element (includes polling `nft list set`, ~2-4 ms each):\n  p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        at(0.50),
        at(0.90),
        at(0.99),
        took[took.len() - 1]
    );
}
