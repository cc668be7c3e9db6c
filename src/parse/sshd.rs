//! sshd (and `sshd-session`, OpenSSH ≥ 9.8).
use super::{Ctx, MessageParser, Parsed};
use crate::event::Event;

#[derive(Default)]
pub struct Sshd {}

impl MessageParser for Sshd {
    fn id(&self) -> &'static str {
        "sshd"
    }
    fn doc(&self) -> &'static str {
        "OpenSSH server: failed, invalid and accepted logins, preauth disconnects"
    }
    fn programs(&self) -> &'static [&'static str] {
        &["sshd"]
    }
    fn parse(&mut self, _ctx: &Ctx<'_>, _message: &str, _out: &mut Vec<Event>) -> Parsed {
        Parsed::Unknown
    }
}
