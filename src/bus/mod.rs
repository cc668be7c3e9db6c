//! The neutral bus between the pipeline and whoever watches it (the dashboard's API and
//! stream): what happens now ([`live`]: commits, status changes, rule, ban and incident
//! news) and the rule set as it runs ([`board`]: rules, their files' errors, script
//! health). Stages publish here; the web layer reads here; nothing here knows HTTP.

pub(crate) mod board;
pub(crate) mod live;
