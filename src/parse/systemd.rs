//! systemd: units that failed
use super::{Ctx, MessageParser, Parsed};
use crate::event::Event;

#[derive(Default)]
pub struct Systemd {}

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
    fn parse(&mut self, _ctx: &Ctx<'_>, _message: &str, _out: &mut Vec<Event>) -> Parsed {
        Parsed::Unknown
    }
}
