//! sudo: commands run, denied and failed
use super::{Ctx, MessageParser, Parsed};
use crate::event::Event;

#[derive(Default)]
pub struct Sudo {}

impl MessageParser for Sudo {
    fn id(&self) -> &'static str {
        "sudo"
    }
    fn doc(&self) -> &'static str {
        "sudo: commands run, denied and failed"
    }
    fn programs(&self) -> &'static [&'static str] {
        &["sudo"]
    }
    fn parse(&mut self, _ctx: &Ctx<'_>, _message: &str, _out: &mut Vec<Event>) -> Parsed {
        Parsed::Unknown
    }
}
