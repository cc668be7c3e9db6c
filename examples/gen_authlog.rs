//! Writes a synthetic but realistic Debian auth.log to stdout, for benchmarks:
//! `cargo run --release --example gen_authlog -- 1000000 > /tmp/auth-1m.log`.
//!
//! The mix follows what an internet-facing host logs under brute force (the proportions
//! of loghub's OpenSSH_2k and the elastic-examples auth.log): failed passwords with their
//! PAM echoes, invalid users, preauth disconnects, the odd accepted login with its session
//! lines, CRON sessions and sudo. BSD stamps, one host, addresses from documentation
//! ranges (203.0.113.0/24, 198.51.100.0/24). Deterministic: the same count gives the same file.
//!
//! `gen_authlog N distinct` instead writes N failed passwords from N distinct addresses
//! (2001:db8::/32), for the engine's memory bound; `gen_authlog N root-logins` writes N
//! accepted root logins from N distinct addresses, which the default rules turn into N
//! alerts (the API's benchmark with a million stored alerts).

use std::io::{self, BufWriter, Write};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const USERS: [&str; 12] = [
    "root", "admin", "test", "oracle", "ubuntu", "pi", "postgres", "git", "user", "ftpuser",
    "guest", "deploy",
];

/// xorshift64*: a fixed, dependency-free generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn main() -> io::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let mode = std::env::args().nth(2);
    if matches!(mode.as_deref(), Some("distinct" | "root-logins")) {
        let what = if mode.as_deref() == Some("distinct") {
            "Failed password"
        } else {
            "Accepted publickey"
        };
        for i in 0..n {
            let s = i / 100;
            writeln!(
                out,
                "2026-11-21T{:02}:{:02}:{:02}+00:00 web sshd[{}]: {what} for root from 2001:db8:{:x}:{:x}::1 port {} ssh2",
                (s / 3600) % 24,
                (s / 60) % 60,
                s % 60,
                1000 + i % 30_000,
                i >> 16,
                i & 0xffff,
                1024 + i % 60_000
            )?;
        }
        return out.flush();
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut secs: u64 = 10 * 86_400; // Jan 11 00:00:00
    let mut pid: u64 = 20_000;
    let mut written = 0u64;
    while written < n {
        secs += rng.below(3);
        let day = secs / 86_400;
        let (month, dom) = ((day / 28) % 12, day % 28 + 1);
        let stamp = format!(
            "{} {:>2} {:02}:{:02}:{:02}",
            MONTHS[month as usize],
            dom,
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60
        );
        let ip = if rng.below(2) == 0 {
            format!("203.0.113.{}", rng.below(254) + 1)
        } else {
            format!("198.51.100.{}", rng.below(254) + 1)
        };
        let port = 1024 + rng.below(60_000);
        let user = USERS[rng.below(USERS.len() as u64) as usize];
        pid += 1 + rng.below(5);
        let lines: Vec<String> = match rng.below(100) {
            0..=39 => vec![
                format!("{stamp} web01 sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}"),
                format!("{stamp} web01 sshd[{pid}]: Failed password for {user} from {ip} port {port} ssh2"),
            ],
            40..=59 => {
                let invalid = format!("{user}{}", rng.below(100));
                vec![
                    format!("{stamp} web01 sshd[{pid}]: Invalid user {invalid} from {ip} port {port}"),
                    format!("{stamp} web01 sshd[{pid}]: Failed password for invalid user {invalid} from {ip} port {port} ssh2"),
                ]
            }
            60..=69 => vec![format!("{stamp} web01 sshd[{pid}]: Received disconnect from {ip} port {port}:11: Bye Bye [preauth]")],
            70..=77 => vec![format!("{stamp} web01 sshd[{pid}]: Connection closed by {ip} port {port} [preauth]")],
            78..=81 => vec![format!("{stamp} web01 sshd[{pid}]: Disconnected from authenticating user {user} {ip} port {port} [preauth]")],
            82..=83 => vec![
                format!("{stamp} web01 sshd[{pid}]: Accepted publickey for deploy from {ip} port {port} ssh2: ED25519 SHA256:Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA"),
                format!("{stamp} web01 sshd[{pid}]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)"),
                format!("{stamp} web01 systemd-logind[512]: New session {pid} of user deploy."),
            ],
            84..=93 => vec![
                format!("{stamp} web01 CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
                format!("{stamp} web01 CRON[{pid}]: pam_unix(cron:session): session closed for user root"),
            ],
            94..=96 => vec![
                format!("{stamp} web01 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"),
                format!("{stamp} web01 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1000)"),
            ],
            _ => vec![format!("{stamp} web01 sshd[{pid}]: error: maximum authentication attempts exceeded for {user} from {ip} port {port} ssh2 [preauth]")],
        };
        for l in lines {
            if written == n {
                break;
            }
            out.write_all(l.as_bytes())?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    out.flush()
}
