//! The dashboard's weight, its time to interactive and the daemon's idle cost, measured in
//! Debian's Chromium against a real `picket run` on loopback:
//! `cargo bench --bench dashboard` (needs the chromium and chromium-driver packages).
//!
//! 1. First load: bytes transferred for the login page and then the dashboard (a fresh
//!    browser profile, so nothing is cached), and the time from pressing "Sign in" until
//!    the Overview shows its live feed.
//! 2. Idle: the dashboard stays open on the Overview for `PICKET_IDLE_SECS` (default 60)
//!    with nothing happening but the 10 s process and port snapshots; the daemon's CPU
//!    time over that span and its resident memory after it, from /proc.

#[path = "../tests/common/browser.rs"]
mod browser;
#[path = "../tests/common/mod.rs"]
mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use browser::{Browser, Page};
use common::http::free_port;
use common::sys::{add_user, wait_for, Picket};

/// The page's own document plus every resource it fetched, in bytes on the wire.
const TRANSFERRED: &str = "const nav = performance.getEntriesByType('navigation')[0];
    return (nav ? nav.transferSize : 0) + performance.getEntriesByType('resource')
        .filter((r) => !r.name.includes('/api/'))
        .reduce((n, r) => n + r.transferSize, 0);";

/// User plus system CPU time of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn main() {
    let idle_secs: u64 = std::env::var("PICKET_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, "").unwrap();
    add_user(d, "bench", "admin", "bench password 1");
    let addr = format!("127.0.0.1:{}", free_port());
    let picket = Picket::start(&[
        "--log",
        log.to_str().unwrap(),
        "--data-dir",
        d,
        "--listen",
        &addr,
        // The daemon as it runs by default, process and port snapshots included.
        "--snapshot-interval",
        "10",
    ]);
    wait_for("the dashboard", Duration::from_secs(20), || {
        TcpStream::connect(&addr).ok().map(|_| ())
    });
    let b = Browser::start("bench_dashboard", &addr);
    let p = Page(&b.client);
    let (login_bytes, dash_bytes, interactive) = b.run(async {
        p.goto(&format!("{}/login.html", b.base)).await;
        p.wait("#login-submit", Duration::from_secs(10)).await;
        let login_bytes = p.js(TRANSFERRED, vec![]).await.as_u64().unwrap_or(0);
        p.wait("#username", Duration::from_secs(5))
            .await
            .send_keys("bench")
            .await
            .unwrap();
        p.wait("#password", Duration::from_secs(5))
            .await
            .send_keys("bench password 1")
            .await
            .unwrap();
        let submit = p
            .wait("#login-submit:not([disabled])", Duration::from_secs(5))
            .await;
        let start = Instant::now();
        submit.click().await.unwrap();
        p.wait(
            "body[data-role=\"admin\"] #live-feed",
            Duration::from_secs(10),
        )
        .await;
        p.wait("#live-state[data-state=\"live\"]", Duration::from_secs(10))
            .await;
        let interactive = start.elapsed();
        // Let the Overview's charts finish their first requests.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let dash_bytes = p.js(TRANSFERRED, vec![]).await.as_u64().unwrap_or(0);
        (login_bytes, dash_bytes, interactive)
    });
    println!(
        "first load: login page {login_bytes} B + dashboard {dash_bytes} B = {} B",
        login_bytes + dash_bytes
    );
    println!("sign in → Overview live: {interactive:?}");

    let pid = picket.child.id();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let before = cpu_ticks(pid);
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let used = (cpu_ticks(pid) - before) as f64 / hz;
    println!(
        "idle with the dashboard open: {:.2}% of one core ({used:.2} s CPU over {:.0} s)",
        100.0 * used / start.elapsed().as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .map(str::trim)
        .unwrap_or("?");
    println!("its resident memory then: {rss}");
    b.assert_no_script_errors();
}
