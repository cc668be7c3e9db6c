//! su: successful and failed switches of user
use super::{Ctx, MessageParser, Parsed};
use crate::event::Event;

#[derive(Default)]
pub struct Su {}

impl MessageParser for Su {
    fn id(&self) -> &'static str {
        "su"
    }
    fn doc(&self) -> &'static str {
        "su: successful and failed switches of user"
    }
    fn programs(&self) -> &'static [&'static str] {
        &["su"]
    }
    fn parse(&mut self, _ctx: &Ctx<'_>, _message: &str, _out: &mut Vec<Event>) -> Parsed {
        Parsed::Unknown
    }
}
