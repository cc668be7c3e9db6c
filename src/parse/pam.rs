//! PAM modules (pam_unix …) under any program
use super::{Ctx, MessageParser, Parsed};
use crate::event::Event;

#[derive(Default)]
pub struct Pam {}

impl MessageParser for Pam {
    fn id(&self) -> &'static str {
        "pam"
    }
    fn doc(&self) -> &'static str {
        "PAM modules (pam_unix …) under any program"
    }
    fn programs(&self) -> &'static [&'static str] {
        &[]
    }
    fn parse(&mut self, _ctx: &Ctx<'_>, _message: &str, _out: &mut Vec<Event>) -> Parsed {
        Parsed::Unknown
    }
}
