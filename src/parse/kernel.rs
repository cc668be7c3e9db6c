//! kernel: segfaults, OOM kills, netfilter LOG drops (UFW, iptables)
use super::{Ctx, MessageParser, Parsed};
use crate::event::Event;

#[derive(Default)]
pub struct Kernel {}

impl MessageParser for Kernel {
    fn id(&self) -> &'static str {
        "kernel"
    }
    fn doc(&self) -> &'static str {
        "kernel: segfaults, OOM kills, netfilter LOG drops (UFW, iptables)"
    }
    fn programs(&self) -> &'static [&'static str] {
        &["kernel"]
    }
    fn parse(&mut self, _ctx: &Ctx<'_>, _message: &str, _out: &mut Vec<Event>) -> Parsed {
        Parsed::Unknown
    }
}
