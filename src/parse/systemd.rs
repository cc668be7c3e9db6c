//! systemd (pid 1 and user managers, `systemd[1234]`): units that failed.
//!
//! One failure is one `SERVICE_FAILED` event. A failing unit makes systemd log up to
//! four lines; Debian 12 (systemd 252) writes, in this order:
//!
//! ```text
//! foo.service: Main process exited, code=exited, status=1/FAILURE
//! foo.service: Failed with result 'exit-code'.
//! Failed to start foo.service - Foo daemon.
//! ```
//!
//! The counting line is `UNIT: Failed with result 'RESULT'.` (systemd ≥ 229): it is logged
//! for every failure, including units that crash long after they started (which get no
//! `Failed to start`) and timers, sockets and mounts. Its event has `extra.unit`,
//! `extra.result`, and `extra.code`/`extra.status` when the `Main process exited` (or
//! `Control process exited`) line of the same unit came just before; that line is
//! otherwise ignored. `Failed to start …` is ignored: it follows the counting line (so its
//! description cannot be attached without holding events back) and it is missing for
//! runtime crashes. systemd before 229 (CentOS 7's 219) has no `Failed with result`; there
//! `Unit foo.service entered failed state.` counts, and `foo.service failed.` is ignored.
//! systemd 229–235 log both `foo.service: Unit entered failed state.` (ignored) and
//! `Failed with result` (counted).
//!
//! `extra.manager` is `system` for pid 1 and `user` for any other systemd pid. PAM lines
//! (`pam_unix(systemd-user:session)`) are left to the PAM parser.

use super::{Ctx, MessageParser, Parsed};
use crate::model::event::{Event, EventType};

/// The last `Main process exited` seen, kept (in reused buffers) for the `Failed with
/// result` line that follows it.
#[derive(Default)]
pub struct Systemd {
    pending_unit: String,
    pending_code: String,
    pending_status: String,
}

impl MessageParser for Systemd {
    fn id(&self) -> &'static str {
        "systemd"
    }
    fn doc(&self) -> &'static str {
        "systemd: units that failed"
    }
    fn programs(&self) -> &'static [&'static str] {
        &["systemd"]
    }
    fn parse(&mut self, ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
        self.parse_message(ctx, message.trim(), out)
    }
}

/// A plausible unit name: `name.suffix`, no spaces.
fn is_unit(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && !s.contains(' ') && s.contains('.')
}

/// Messages systemd writes all the time that matter to no rule.
const CHATTER: &[&str] = &[
    "Started ",
    "Starting ",
    "Stopped ",
    "Stopping ",
    "Finished ",
    "Reached target ",
    "Stopped target ",
    "Listening on ",
    "Closed ",
    "Created slice ",
    "Removed slice ",
    "Mounted ",
    "Unmounted ",
    "Mounting ",
    "Unmounting ",
    "Reloading",
    "Reloaded ",
    "Startup finished",
    "Queued start job",
    "Condition check",
    "Dependency failed for ",
    "Failed to start ",
    "Failed to mark scope ",
    "Time has been changed",
    "Received SIG",
    "Set hostname to",
    "Detected ",
    "Hostname set to",
    "Activating ",
    "Activated ",
    "Deactivated ",
    "New main PID",
    "Session ",
];

/// `UNIT: …` messages that matter to no rule.
const UNIT_CHATTER: &[&str] = &[
    "Succeeded.",
    "Deactivated successfully.",
    "Consumed ",
    "Scheduled restart job",
    "Start request repeated too quickly.",
    "Unit entered failed state.",
    "Job ",
    "Killing process ",
    "State '",
    "Processes still around",
    "Found left-over process",
    "Referenced but unset environment variable",
    "Will not start",
    "Current command vanished",
];

impl Systemd {
    fn parse_message(&mut self, ctx: &Ctx<'_>, m: &str, out: &mut Vec<Event>) -> Parsed {
        if m.starts_with("pam_") {
            return Parsed::Unknown;
        }
        if let Some(r) = m.strip_prefix("Unit ") {
            // systemd < 229: `Unit foo.service entered failed state.`
            if let Some(unit) = r.strip_suffix(" entered failed state.") {
                if is_unit(unit) {
                    out.push(self.event(ctx, unit, None));
                    return Parsed::Events;
                }
            }
            return Parsed::Unknown;
        }
        if let Some((unit, rest)) = m.split_once(": ") {
            if is_unit(unit) {
                return self.unit_message(ctx, unit, rest, out);
            }
        }
        if let Some(unit) = m.strip_suffix(" failed.") {
            if is_unit(unit) {
                return Parsed::Ignored;
            }
        }
        if CHATTER.iter().any(|c| m.starts_with(c)) {
            return Parsed::Ignored;
        }
        Parsed::Unknown
    }

    fn unit_message(
        &mut self,
        ctx: &Ctx<'_>,
        unit: &str,
        rest: &str,
        out: &mut Vec<Event>,
    ) -> Parsed {
        if let Some(r) = rest.strip_prefix("Failed with result '") {
            let result = r.strip_suffix("'.").or_else(|| r.strip_suffix('\''));
            let Some(result) = result.filter(|x| !x.is_empty() && !x.contains('\'')) else {
                return Parsed::Unknown;
            };
            out.push(self.event(ctx, unit, Some(result)));
            return Parsed::Events;
        }
        let exited = rest
            .strip_prefix("Main process exited, ")
            .or_else(|| rest.strip_prefix("Control process exited, "))
            .or_else(|| rest.strip_prefix("main process exited, "))
            .or_else(|| rest.strip_prefix("control process exited, "));
        if let Some(r) = exited {
            // `code=exited, status=1/FAILURE`
            self.pending_unit.clear();
            self.pending_code.clear();
            self.pending_status.clear();
            self.pending_unit.push_str(unit);
            for part in r.split([',', ' ']) {
                if let Some(v) = part.strip_prefix("code=") {
                    self.pending_code.push_str(v);
                } else if let Some(v) = part.strip_prefix("status=") {
                    self.pending_status.push_str(v);
                }
            }
            return Parsed::Ignored;
        }
        if UNIT_CHATTER.iter().any(|c| rest.starts_with(c)) {
            return Parsed::Ignored;
        }
        Parsed::Unknown
    }

    fn event(&mut self, ctx: &Ctx<'_>, unit: &str, result: Option<&str>) -> Event {
        let mut e = ctx.event(EventType::ServiceFailed);
        e.extra.insert("unit".into(), unit.to_string());
        if let Some(r) = result {
            e.extra.insert("result".into(), r.to_string());
        }
        if self.pending_unit == unit {
            if !self.pending_code.is_empty() {
                e.extra.insert("code".into(), self.pending_code.clone());
            }
            if !self.pending_status.is_empty() {
                e.extra.insert("status".into(), self.pending_status.clone());
            }
        }
        self.pending_unit.clear();
        if let Some(pid) = ctx.pid {
            let manager = if pid == 1 { "system" } else { "user" };
            e.extra.insert("manager".into(), manager.into());
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::timestamp::Timestamp;

    static SHARED: std::sync::LazyLock<crate::parse::Shared> =
        std::sync::LazyLock::new(|| crate::parse::Shared::for_line("test", "h", "systemd"));

    fn ctx<'a>(msg: &'a str, pid: Option<u32>) -> Ctx<'a> {
        Ctx {
            shared: &SHARED,
            ts: Timestamp::from_micros(0),
            host: "h",
            program: "systemd",
            tag: "systemd",
            pid,
            source: "test",
            line: msg,
        }
    }

    fn feed(p: &mut Systemd, lines: &[&str], pid: Option<u32>) -> Vec<Event> {
        let mut out = Vec::new();
        for l in lines {
            let r = p.parse(&ctx(l, pid), l, &mut out);
            assert_ne!(r, Parsed::Unknown, "{l}");
        }
        out
    }

    #[test]
    fn debian12_failure_is_one_event() {
        let mut p = Systemd::default();
        let out = feed(
            &mut p,
            &[
                "Starting foo.service - Foo daemon...",
                "foo.service: Main process exited, code=exited, status=1/FAILURE",
                "foo.service: Failed with result 'exit-code'.",
                "Failed to start foo.service - Foo daemon.",
            ],
            Some(1),
        );
        assert_eq!(out.len(), 1);
        let e = &out[0];
        assert_eq!(e.kind, EventType::ServiceFailed);
        assert_eq!(e.extra["unit"], "foo.service");
        assert_eq!(e.extra["result"], "exit-code");
        assert_eq!(e.extra["code"], "exited");
        assert_eq!(e.extra["status"], "1/FAILURE");
        assert_eq!(e.extra["manager"], "system");
    }

    #[test]
    fn ubuntu1604_and_centos7_styles() {
        let mut p = Systemd::default();
        let out = feed(
            &mut p,
            &[
                "nginx.service: Control process exited, code=exited status=1",
                "Failed to start A high performance web server and a reverse proxy server.",
                "nginx.service: Unit entered failed state.",
                "nginx.service: Failed with result 'exit-code'.",
            ],
            Some(1),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].extra["result"], "exit-code");
        let out = feed(
            &mut p,
            &[
                "httpd.service: main process exited, code=exited, status=1/FAILURE",
                "Failed to start The Apache HTTP Server.",
                "Unit httpd.service entered failed state.",
                "httpd.service failed.",
            ],
            None,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].extra["unit"], "httpd.service");
        assert!(!out[0].extra.contains_key("result"));
        assert!(!out[0].extra.contains_key("manager"));
    }

    #[test]
    fn runtime_crash_and_user_manager() {
        let mut p = Systemd::default();
        let out = feed(
            &mut p,
            &[
                "pipewire.service: Main process exited, code=killed, status=11/SEGV",
                "pipewire.service: Failed with result 'signal'.",
            ],
            Some(1234),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].extra["status"], "11/SEGV");
        assert_eq!(out[0].extra["manager"], "user");
        // Status from another unit is not attached.
        let out = feed(
            &mut p,
            &[
                "a.service: Main process exited, code=exited, status=2/INVALIDARGUMENT",
                "b.service: Failed with result 'timeout'.",
            ],
            Some(1),
        );
        assert!(!out[0].extra.contains_key("status"));
    }

    #[test]
    fn chatter_and_pam() {
        let mut p = Systemd::default();
        let mut out = Vec::new();
        for m in [
            "Failed to mark scope session-1024.scope as abandoned : Stale file handle",
            "Time has been changed",
            "Started Session 3 of user alice.",
            "foo.service: Deactivated successfully.",
            "foo.service: Consumed 1.234s CPU time.",
            "Dependency failed for Foo.",
        ] {
            assert_eq!(
                p.parse(&ctx(m, Some(1)), m, &mut out),
                Parsed::Ignored,
                "{m}"
            );
        }
        let m =
            "pam_unix(systemd-user:session): session opened for user alice(uid=1000) by (uid=0)";
        assert_eq!(p.parse(&ctx(m, Some(1)), m, &mut out), Parsed::Unknown);
        assert!(out.is_empty());
    }

    #[test]
    fn hostile_and_prefixes() {
        let mut p = Systemd::default();
        let mut out = Vec::new();
        let x = "<img src=x onerror=alert(1)>";
        let m = format!("{x}.service: Failed with result '{x}'.");
        assert_eq!(p.parse(&ctx(&m, Some(1)), &m, &mut out), Parsed::Unknown);
        let m = "x<img>.service: Failed with result 'exit-code'.";
        assert_eq!(p.parse(&ctx(m, Some(1)), m, &mut out), Parsed::Events);
        for l in [
            "foo.service: Main process exited, code=exited, status=1/FAILURE",
            "foo.service: Failed with result 'exit-code'.",
            "Unit foo.service entered failed state.",
        ] {
            for (i, _) in l.char_indices() {
                let _ = p.parse(&ctx(&l[..i], Some(1)), &l[..i], &mut out);
            }
        }
    }
}
