//! shadow-utils: useradd, userdel, usermod, groupadd, groupdel, gpasswd, chpasswd, passwd
use super::{Ctx, MessageParser, Parsed};
use crate::event::Event;

#[derive(Default)]
pub struct ShadowUtils {}

impl MessageParser for ShadowUtils {
    fn id(&self) -> &'static str {
        "shadow"
    }
    fn doc(&self) -> &'static str {
        "shadow-utils: useradd, userdel, usermod, groupadd, groupdel, gpasswd, chpasswd, passwd"
    }
    fn programs(&self) -> &'static [&'static str] {
        &[
            "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "gpasswd",
            "chpasswd", "passwd", "chage",
        ]
    }
    fn parse(&mut self, _ctx: &Ctx<'_>, _message: &str, _out: &mut Vec<Event>) -> Parsed {
        Parsed::Unknown
    }
}
