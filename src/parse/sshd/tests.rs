//! The sshd parser on real OpenSSH lines and on hostile ones.

use super::*;
use crate::base::timestamp::Timestamp;
use crate::model::event::Outcome;
use std::net::IpAddr;

fn feed_tag(p: &mut Sshd, tag: &str, pid: u32, msg: &str) -> (Parsed, Vec<Event>) {
    let ctx = Ctx {
        ts: Timestamp::from_micros(1_000_000),
        host: "h",
        program: super::super::canonical_program(tag),
        tag,
        pid: Some(pid),
        source: "test",
        line: msg,
        shared: &crate::parse::Shared::for_line("test", "h", super::super::canonical_program(tag)),
    };
    let mut out = Vec::new();
    let r = p.parse(&ctx, msg, &mut out);
    assert_eq!(r == Parsed::Events, !out.is_empty(), "{msg}");
    (r, out)
}

fn feed(p: &mut Sshd, pid: u32, msg: &str) -> (Parsed, Vec<Event>) {
    feed_tag(p, "sshd", pid, msg)
}

/// The one event a message must produce.
fn one(msg: &str) -> Event {
    let (_, mut ev) = feed(&mut Sshd::default(), 1, msg);
    assert_eq!(ev.len(), 1, "{msg}: {ev:?}");
    ev.remove(0)
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn failures(ev: &[Event]) -> usize {
    ev.iter()
        .filter(|e| matches!(e.kind, EventType::FailedLogin | EventType::InvalidUser))
        .count()
}

#[test]
fn failed_password_shapes() {
    let e = one("Failed password for root from 1.2.3.4 port 22 ssh2");
    assert_eq!(e.kind, EventType::FailedLogin);
    assert_eq!(e.user.as_deref(), Some("root"));
    assert_eq!(e.src_ip, ip("1.2.3.4"));
    assert_eq!(e.src_port, Some(22));
    assert_eq!(e.method.as_deref(), Some("password"));
    assert_eq!(e.outcome, Some(Outcome::Failure));
    assert!(!e.extra.contains_key("invalid_user"));

    let e = one("Failed password for invalid user ROOT from aaaa:bbbb:cccc:1234::1:1");
    assert_eq!(e.src_ip, ip("aaaa:bbbb:cccc:1234::1:1"));
    assert_eq!(e.src_port, None);
    assert_eq!(
        e.extra.get("invalid_user").map(String::as_str),
        Some("true")
    );

    let e = one("Failed none for invalid user 0 from ::ffff:5.188.10.180 port 49054 ssh2");
    assert_eq!(e.src_ip, ip("5.188.10.180"));
    assert_eq!(e.method.as_deref(), Some("none"));

    let e = one("Failed keyboard-interactive/pam for invalid user jamedds from 205.186.180.77 port 33723 ssh2");
    assert_eq!(e.method.as_deref(), Some("keyboard-interactive/pam"));
    assert_eq!(e.user.as_deref(), Some("jamedds"));

    let e = one("[ID 800047 auth.info] Failed keyboard-interactive for <invalid username> from 205.186.180.55 port 42742 ssh2");
    assert_eq!(
        e.extra.get("invalid_user").map(String::as_str),
        Some("true")
    );

    let e = one("Failed hostbased for dan from 127.0.0.1 port 45785 ssh2: RSA 8c:e3:aa, client user \"dan\", client host \"localhost.localdomain\"");
    assert_eq!(e.src_ip, ip("127.0.0.1"));
    assert_eq!(e.method.as_deref(), Some("hostbased"));

    let e = one("Failed password for dan from example.com port 1 ssh1");
    assert_eq!(e.src_host.as_deref(), Some("example.com"));
    assert_eq!(e.src_ip, None);

    // Leading zeros are never read as an address.
    let e = one("Failed password for x from 192.030.0.6 port 1 ssh2");
    assert_eq!(
        (e.src_ip, e.src_host.as_deref()),
        (None, Some("192.030.0.6"))
    );

    let e = one("Failed password for invalid user  from 192.0.2.68 port 34916 ssh2");
    assert_eq!(e.user.as_deref(), Some(""));
}

#[test]
fn hostile_user_names() {
    let e = one(
        "Failed password for invalid user <img src=x onerror=alert(1)> from 1.2.3.4 port 5 ssh2",
    );
    assert_eq!(e.user.as_deref(), Some("<img src=x onerror=alert(1)>"));
    assert_eq!(e.src_ip, ip("1.2.3.4"));

    let e = one("Failed password for invalid user from 10.10.1.1 from 127.0.0.1 port 58946 ssh2");
    assert_eq!(e.src_ip, ip("127.0.0.1"));
    assert_eq!(e.user.as_deref(), Some("from 10.10.1.1"));

    let e = one("Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2");
    assert_eq!(e.src_ip, ip("127.0.0.1"));
    assert_eq!(
        e.user.as_deref(),
        Some("test from 10.10.1.2 port 55555 ssh2")
    );

    let e = one("Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2");
    assert_eq!(e.src_ip, ip("127.0.0.1"));

    let e = one("Invalid user x from 6.6.6.6 from 1.2.3.4 port 5");
    assert_eq!(e.src_ip, ip("1.2.3.4"));
    assert_eq!(e.user.as_deref(), Some("x from 6.6.6.6"));

    // The connection's remembered address wins over an injected candidate.
    let mut p = Sshd::default();
    feed(
        &mut p,
        7,
        "Connection from 1.2.3.4 port 5 on 10.0.0.1 port 22",
    );
    let (_, ev) = feed(
        &mut p,
        7,
        "Failed password for invalid user x from 6.6.6.6 port 1 ssh2: y from 1.2.3.4 port 5 ssh2",
    );
    assert_eq!(ev[0].src_ip, ip("1.2.3.4"));
}

#[test]
fn invalid_users() {
    let e = one("Invalid user ftp from 192.0.2.2 port 37220");
    assert_eq!(e.kind, EventType::InvalidUser);
    assert_eq!(
        (e.user.as_deref(), e.src_ip, e.src_port),
        (Some("ftp"), ip("192.0.2.2"), Some(37220))
    );
    assert_eq!(
        e.extra.get("invalid_user").map(String::as_str),
        Some("true")
    );
    let e = one("Illegal user test from 2001:db8::5");
    assert_eq!(e.src_ip, ip("2001:db8::5"));
    let e = one("Invalid user  from 192.0.2.68 port 34916");
    assert_eq!(e.user.as_deref(), Some(""));
    let e = one("Invalid user john smith from 192.0.2.9 port 1 [preauth]");
    assert_eq!(e.user.as_deref(), Some("john smith"));
}

#[test]
fn denied_refused_and_pam_errors() {
    let e = one("User root from 46.45.128.3 not allowed because listed in DenyUsers");
    assert_eq!(e.kind, EventType::FailedLogin);
    assert_eq!(e.extra.get("reason").map(String::as_str), Some("denied"));
    assert_eq!(e.user.as_deref(), Some("root"));
    assert_eq!(
        e.extra.get("detail").map(String::as_str),
        Some("not allowed because listed in DenyUsers")
    );
    let e = one("ROOT LOGIN REFUSED FROM ::ffff:1.2.3.4");
    assert_eq!((e.src_ip, e.user.as_deref()), (ip("1.2.3.4"), Some("root")));
    let e = one("ROOT LOGIN REFUSED FROM 1.2.3.4 port 12345 [preauth]");
    assert_eq!(e.src_port, Some(12345));
    let e = one("refused connect from _U2FsdGVkX19P3BCJmFBHhjLza8BcMH06WCUVwttMHpE=_@::ffff:218.249.210.161 (::ffff:218.249.210.161)");
    assert_eq!(e.src_ip, ip("218.249.210.161"));
    let e = one("refused connect from 1.2.3.4");
    assert_eq!(e.src_ip, ip("1.2.3.4"));
    let e = one("error: PAM: Authentication failure for test-ipv6 from 2001:db8::80da:af6b:8b2c");
    assert_eq!(e.src_ip, ip("2001:db8::80da:af6b:8b2c"));
    let e = one("error: PAM: authentication error for james from example.com via 192.168.1.201");
    assert_eq!(e.src_host.as_deref(), Some("example.com"));
    let e = one("error: PAM: User not known to the underlying authentication module for illegal user kernelitshell from 10.215.4.227 ");
    assert_eq!(e.user.as_deref(), Some("kernelitshell"));
    assert_eq!(
        e.extra.get("invalid_user").map(String::as_str),
        Some("true")
    );
}

#[test]
fn accepted_and_root() {
    let (_, ev) = feed(
        &mut Sshd::default(),
        1,
        "Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
    );
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, EventType::LoginSuccess);
    assert_eq!(ev[0].outcome, Some(Outcome::Success));
    assert_eq!(ev[0].user.as_deref(), Some("fztu"));
    let (_, ev) = feed(
        &mut Sshd::default(),
        1,
        "Accepted publickey for root from 2001:db8::1 port 4 ssh2: ED25519 SHA256:abc",
    );
    let kinds: Vec<_> = ev.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventType::LoginSuccess, EventType::RootLogin]);
    assert_eq!(ev[1].src_ip, ip("2001:db8::1"));
}

#[test]
fn publickey_helpers_and_too_many() {
    let mut p = Sshd::default();
    // A valid user's unfitting keys are not failures …
    let (r, ev) = feed(
        &mut p,
        10,
        "Failed publickey for git from 192.0.2.111 port 57910 ssh2: ECDSA 1e:fe",
    );
    assert_eq!((r, ev.len()), (Parsed::Ignored, 0));
    feed(
        &mut p,
        10,
        "Failed publickey for git from 192.0.2.111 port 57910 ssh2: RSA 14:ba",
    );
    // … until the connection gives up.
    let (_, ev) = feed(
        &mut p,
        10,
        "Disconnecting: Too many authentication failures for git [preauth]",
    );
    assert_eq!(failures(&ev), 1);
    assert_eq!(ev[0].src_ip, ip("192.0.2.111"));
    assert_eq!(ev[0].extra.get("attempts").map(String::as_str), Some("3"));
    let (_, ev) = feed(&mut p, 10, "Connection closed by 192.0.2.111 [preauth]");
    assert_eq!(failures(&ev), 0);
    assert_eq!(ev[0].kind, EventType::PreauthDisconnect);

    // Accepted after the helpers: nothing.
    let mut p = Sshd::default();
    feed(
        &mut p,
        11,
        "Failed publickey for git from 192.0.2.1 port 57904 ssh2: ECDSA 0e:ff",
    );
    let (_, ev) = feed(
        &mut p,
        11,
        "Accepted publickey for git from 192.0.2.1 port 57904 ssh2: DSA 36:48",
    );
    assert_eq!(failures(&ev), 0);
    let (r, _) = feed(&mut p, 11, "Connection closed by 192.0.2.1");
    assert_eq!(r, Parsed::Ignored);

    // A failed publickey for an invalid user counts at once.
    let e = one(
        "Failed publickey for invalid user graysky from 127.0.0.1 port 37954 ssh2: RSA SHA256:v3dp",
    );
    assert_eq!(e.kind, EventType::FailedLogin);
}

#[test]
fn address_learned_later() {
    let mut p = Sshd::default();
    let (r, ev) = feed(
        &mut p,
        8148,
        "Disconnecting: Too many authentication failures for root [preauth]",
    );
    assert_eq!((r, ev.len()), (Parsed::Ignored, 0));
    let (_, ev) = feed(&mut p, 7148, "Connection closed by 61.0.0.1");
    assert_eq!(failures(&ev), 0, "another pid");
    let (_, ev) = feed(&mut p, 8148, "Connection closed by 61.0.0.1 [preauth]");
    assert_eq!(failures(&ev), 1);
    assert_eq!(ev[0].src_ip, ip("61.0.0.1"));
    assert_eq!(ev[0].user.as_deref(), Some("root"));

    let mut p = Sshd::default();
    feed(
        &mut p,
        3719,
        "User root not allowed because account is locked",
    );
    feed(
        &mut p,
        3719,
        "input_userauth_request: invalid user root [preauth]",
    );
    let (_, ev) = feed(
        &mut p,
        3719,
        "error: Received disconnect from 198.51.100.34: 11: Bye Bye [preauth]",
    );
    assert_eq!(failures(&ev), 1);
    assert_eq!(ev[0].src_ip, ip("198.51.100.34"));

    // Without a pending failure, `Received disconnect … 11:` is nothing.
    let (r, _) = feed(
        &mut Sshd::default(),
        1,
        "Received disconnect from 1.2.3.4 port 58846:11: Bye Bye [preauth]",
    );
    assert_eq!(r, Parsed::Ignored);

    let mut p = Sshd::default();
    feed(
        &mut p,
        2,
        "Connection from 115.249.163.77 port 51353 on 127.0.0.1 port 22",
    );
    let (_, ev) = feed(
        &mut p,
        2,
        "Disconnecting: Too many authentication failures [preauth]",
    );
    assert_eq!(ev[0].src_ip, ip("115.249.163.77"));
    assert_eq!(ev[0].src_port, Some(51353));
}

#[test]
fn max_attempts_counted_once() {
    let mut p = Sshd::default();
    let (_, ev) = feed(&mut p, 5, "error: maximum authentication attempts exceeded for invalid user xxx from 192.0.2.7 port 49941 ssh2 [preauth]");
    assert_eq!(failures(&ev), 1);
    assert_eq!(ev[0].user.as_deref(), Some("xxx"));
    assert_eq!(
        ev[0].extra.get("invalid_user").map(String::as_str),
        Some("true")
    );
    let (_, ev) = feed(&mut p, 5, "Disconnecting invalid user xxx 192.0.2.7 port 49941: Too many authentication failures [preauth]");
    assert_eq!(failures(&ev), 0);

    let e = one("Disconnecting invalid user admin 192.0.2.117 port 44004: Change of username or service not allowed: (admin,ssh-connection) -> (user,ssh-connection) [preauth]");
    assert_eq!(
        (e.src_ip, e.user.as_deref()),
        (ip("192.0.2.117"), Some("admin"))
    );
    let e = one("Disconnecting authenticating user root 2001:db8::7 port 1: Too many authentication failures [preauth]");
    assert_eq!(e.src_ip, ip("2001:db8::7"));
}

#[test]
fn user_switch_in_one_connection() {
    let mut p = Sshd::default();
    let (r, _) = feed(&mut p, 1558, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=root rhost=192.0.2.114");
    assert_eq!(r, Parsed::Ignored);
    let (_, ev) = feed(&mut p, 1558, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=sudoer rhost=192.0.2.114");
    assert_eq!(failures(&ev), 1);
    assert_eq!(ev[0].extra.get("attempts").map(String::as_str), Some("2"));
    let (_, ev) = feed(
        &mut p,
        1558,
        "Accepted password for known from 192.0.2.114 port 52100 ssh2",
    );
    assert_eq!(failures(&ev), 1);
    assert_eq!(
        ev[0].extra.get("users").map(String::as_str),
        Some("root,sudoer,known")
    );
    assert!(ev.iter().any(|e| e.kind == EventType::LoginSuccess));

    // The PAM echo of the same user never counts.
    let mut p = Sshd::default();
    for _ in 0..3 {
        let (r, _) = feed(&mut p, 9, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=183.62.140.253  user=root");
        assert_eq!(r, Parsed::Ignored);
        let (_, ev) = feed(
            &mut p,
            9,
            "Failed password for root from 183.62.140.253 port 1 ssh2",
        );
        assert_eq!(failures(&ev), 1);
    }
    let (_, ev) = feed(
        &mut p,
        9,
        "Accepted password for root from 183.62.140.253 port 1 ssh2",
    );
    assert_eq!(failures(&ev), 0);
}

#[test]
fn preauth_disconnects() {
    for (msg, reason, host) in [
        ("Did not receive identification string from 69.61.56.114", "no identification string", "69.61.56.114"),
        ("Bad protocol version identification 'dummy string' from 192.0.2.1' from 69.61.56.115 port 31778", "bad protocol version", "69.61.56.115"),
        ("Connection closed by 192.0.2.212 [preauth]", "connection closed", "192.0.2.212"),
        ("Connection reset by authenticating user root 192.0.2.20 port 1558 [preauth]", "connection reset", "192.0.2.20"),
        ("Connection closed by invalid user  192.0.2.68 port 34916 [preauth]", "connection closed", "192.0.2.68"),
        ("Disconnected from 192.0.2.4 port 36985 [preauth]", "disconnected", "192.0.2.4"),
        ("Unable to negotiate with 192.0.2.1 port 55419: no matching cipher found. Their offer: aes256-cbc [preauth]", "unable to negotiate", "192.0.2.1"),
        ("fatal: Timeout before authentication for 192.0.2.14 port 55555", "timeout before authentication", "192.0.2.14"),
        ("Timeout before authentication for connection from 192.0.2.17 to 127.0.0.1, pid = 29098", "timeout before authentication", "192.0.2.17"),
        ("banner exchange: Connection from 192.0.2.12 port 44105: invalid format", "banner exchange", "192.0.2.12"),
        ("ssh_dispatch_run_fatal: Connection from 192.0.2.13 port 33738: message authentication code incorrect [preauth]", "ssh_dispatch_run_fatal", "192.0.2.13"),
        ("error: Received disconnect from 192.168.2.92 port 1684:14: No supported authentication methods available [preauth]", "no supported authentication methods", "192.168.2.92"),
    ] {
        let e = one(msg);
        assert_eq!(e.kind, EventType::PreauthDisconnect, "{msg}");
        assert_eq!(e.extra.get("reason").map(String::as_str), Some(reason), "{msg}");
        assert_eq!(e.remote().as_deref(), Some(host), "{msg}");
    }
    let e = one("Connection closed by authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]");
    assert_eq!(e.user.as_deref(), Some("test 127.0.0.1 port 12345"));
    assert_eq!(e.src_ip, ip("192.0.2.11"));

    // No address of its own: the connection's.
    let mut p = Sshd::default();
    feed(
        &mut p,
        3,
        "Connection from 192.0.2.16 port 51280 on 192.0.2.16 port 22 rdomain \"\"",
    );
    let (_, ev) = feed(
        &mut p,
        3,
        "error: kex_exchange_identification: read: Connection reset by peer",
    );
    assert_eq!(ev[0].src_ip, ip("192.0.2.16"));
    let (_, ev) = feed(
        &mut p,
        3,
        "fatal: Read from socket failed: Connection reset by peer [preauth]",
    );
    assert_eq!(ev[0].kind, EventType::PreauthDisconnect);
    let (r, _) = feed(
        &mut Sshd::default(),
        4,
        "fatal: Write failed: Connection reset by peer [preauth]",
    );
    assert_eq!(r, Parsed::Ignored);
}

#[test]
fn jsch_auth_fail() {
    let e =
        one("Received disconnect from 89.24.13.192: 3: com.jcraft.jsch.JSchException: Auth fail");
    assert_eq!(
        (e.kind, e.src_ip),
        (EventType::FailedLogin, ip("89.24.13.192"))
    );
    let e = one("error: Received disconnect from 10.0.0.1 port 7736:3: com.jcraft.jsch.JSchException: Auth fail [preauth]");
    assert_eq!((e.src_ip, e.src_port), (ip("10.0.0.1"), Some(7736)));
    let e = one("Received disconnect from 2001:db8::1: 3: Ha ha, suckers!: Auth fail [preauth]");
    assert_eq!(e.src_ip, ip("2001:db8::1"));
}

#[test]
fn ignored_and_unknown() {
    for msg in [
        "Connection from 192.0.2.5",
        "pam_unix(sshd:session): session opened for user rda by (uid=0)",
        "pam_unix(sshd:auth): check pass; user unknown",
        "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root",
        "PAM service(sshd) ignoring max retries; 6 > 3",
        "Received disconnect from 1.2.3.4: 11: Bye Bye [preauth]",
        "Server listening on 0.0.0.0 port 22.",
        "reverse mapping checking getaddrinfo for 191-210-223-172.user.vivozap.com.br [191.210.223.172] failed - POSSIBLE BREAK-IN ATTEMPT!",
        "Address 1.2.3.4 maps to 1234.bbbbbb.com, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!",
        "input_userauth_request: invalid user root [preauth]",
        "Postponed publickey for git from 192.0.2.1 port 57904 ssh2 [preauth]",
        "SSH: Server;Ltype: Version;Remote: 127.0.0.1-1780;Protocol: 2.0;Client: libssh2_1.4.3",
    ] {
        let (r, ev) = feed(&mut Sshd::default(), 1, msg);
        assert_eq!((r, ev.len()), (Parsed::Ignored, 0), "{msg}");
    }
    for msg in [
        "",
        "hello world",
        "Failed",
        "Failed password for",
        "Accepted password for x from nowhere!",
        "User x",
    ] {
        assert_eq!(
            feed(&mut Sshd::default(), 1, msg).0,
            Parsed::Unknown,
            "{msg:?}"
        );
    }
    // Legacy `sshd(pam_unix)` lines are the PAM parser's.
    let (r, _) = feed_tag(
        &mut Sshd::default(),
        "sshd(pam_unix)",
        1,
        "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=1.2.3.4",
    );
    assert_eq!(r, Parsed::Unknown);
    // The older message style under sshd is handed over directly.
    let e = one("(pam_unix) authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=71-13-115-12.static.mdsn.wi.charter.com  user=root");
    assert_eq!(
        e.src_host.as_deref(),
        Some("71-13-115-12.static.mdsn.wi.charter.com")
    );
}

#[test]
fn prefixes_and_suffixes_never_panic() {
    let lines = [
        "Failed password for invalid user é<img> from ::ffff:1.2.3.4 port 50273 ssh2: RSA SHA256:x",
        "Disconnecting invalid user admin 192.0.2.117 port 44004: Change of username or service not allowed: (admin,ssh-connection) -> (user,ssh-connection) [preauth]",
        "error: Received disconnect from 10.0.0.1 port 7736:3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
        "refused connect from _U2F@::ffff:218.249.210.161 (::ffff:218.249.210.161)",
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=root rhost=192.0.2.114 user=x",
        "User root from 46.45.128.3 not allowed because listed in DenyUsers",
        "kernel:[  970.699396]: [ID 800047 auth.info] Failed keyboard-interactive for <invalid username> from 205.186.180.55 port 42742 ssh2",
        "Connection closed by authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]",
        "error: PAM: User not known to the underlying authentication module for illegal user k from 10.215.4.227 via x",
        "Timeout before authentication for connection from 192.0.2.17 to 127.0.0.1, pid = 29098",
    ];
    let mut p = Sshd::default();
    for line in lines {
        for (i, _) in line.char_indices() {
            let _ = feed(&mut p, 1, &line[..i]);
            let _ = feed(&mut p, 2, &line[i..]);
        }
    }
}

#[test]
fn pid_memory_is_bounded() {
    let mut p = Sshd::default();
    for pid in 0..(3 * MAX_PIDS as u32) {
        feed(&mut p, pid, "Connection from 192.0.2.5 port 1");
    }
    assert!(p.pids.len() <= MAX_PIDS);
    assert!(p.pids.order.len() <= 2 * MAX_PIDS + 64);
    // The newest are kept.
    assert!(p.pids.get(Some(3 * MAX_PIDS as u32 - 1)).is_some());
    assert!(p.pids.get(Some(0)).is_none());
    // A closed connection is forgotten.
    feed(&mut p, 7, "Connection from 192.0.2.5 port 1");
    feed(&mut p, 7, "Connection closed by 192.0.2.5 port 1 [preauth]");
    assert!(p.pids.get(Some(7)).is_none());
    // Its slot is the next one given out, and the table never holds more slots than
    // connections allowed, whatever mix of opens and closes.
    let freed = p.pids.free.clone();
    feed(&mut p, 8, "Connection from 192.0.2.6 port 2");
    assert!(p.pids.free.len() < freed.len());
    for pid in 100_000..(100_000 + 2 * MAX_PIDS as u32) {
        feed(&mut p, pid, "Connection from 192.0.2.5 port 1");
        if pid % 3 == 0 {
            feed(
                &mut p,
                pid,
                "Connection closed by 192.0.2.5 port 1 [preauth]",
            );
        }
    }
    assert!(p.pids.slots.len() <= MAX_PIDS);
    assert!(p.pids.len() <= MAX_PIDS);
    assert_eq!(
        p.pids.get(Some(100_001)).map(|s| s.remote.is_some()),
        None,
        "evicted long ago"
    );
    let newest = 100_000 + 2 * MAX_PIDS as u32 - 1;
    assert!(p.pids.get(Some(newest)).is_some() || newest % 3 == 0);
}
