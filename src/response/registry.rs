//! Every action a rule may name in `response:`, in one list: rule compilation validates
//! names against it, the API's ingestion checks what external detectors may ask for, the
//! documentation lists it, and the responder stage builds each action's [`Responder`]
//! from it. Adding an action is one entry here and one module implementing it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::kill::KillConfig;
use super::{block, kill, Blocker, Responder};

/// What a responder is built from.
pub struct Env {
    pub blocker: Blocker,
    pub killer: KillConfig,
    pub data_dir: PathBuf,
    /// Told of each ban made, recorded in dry-run or refused (the dashboard's live news).
    pub on_ban: Arc<dyn Fn(IpAddr) + Send + Sync>,
}

/// One action rules can ask for.
pub struct ResponderKind {
    /// The name in rule files (`response: [block_ip]`).
    pub name: &'static str,
    pub doc: &'static str,
    /// Whether rules that name it may set `ban_time`.
    pub takes_ban_time: bool,
    /// Whether an external detector (`POST /api/alert`) may ask for it.
    pub external: bool,
    pub build: fn(&Env) -> Box<dyn Responder>,
}

/// Every action, in the order they are documented.
pub static RESPONDERS: &[ResponderKind] = &[
    ResponderKind {
        name: "block_ip",
        doc: "ban the alert's src_ip for ban_time, doubled for repeat offenders",
        takes_ban_time: true,
        external: true,
        build: |env| Box::new(block::BlockResponder::new(env)),
    },
    ResponderKind {
        name: "kill_process",
        doc: "terminate the alert's process (group_by pid and path) if it is still that program",
        takes_ban_time: false,
        external: false,
        build: |env| Box::new(kill::KillResponder::new(env)),
    },
];

/// The action called `name`.
pub fn find(name: &str) -> Option<&'static ResponderKind> {
    RESPONDERS.iter().find(|k| k.name == name)
}

/// What is wrong with a rule's response `name`, if anything.
pub fn problem(name: &str) -> Option<String> {
    find(name).is_none().then(|| {
        let names: Vec<&str> = RESPONDERS.iter().map(|k| k.name).collect();
        format!("unknown response `{name}`: use {}", names.join(" or "))
    })
}

/// The problem with a ban time on a rule whose responses take none, if any.
pub fn ban_time_problem(response: &[String]) -> Option<String> {
    let takes: Vec<&str> = RESPONDERS
        .iter()
        .filter(|k| k.takes_ban_time)
        .map(|k| k.name)
        .collect();
    (!response.iter().any(|r| takes.contains(&r.as_str()))).then(|| {
        let names = takes.join(" or ");
        format!("ban_time is the length of {names}'s bans: add {names} to response")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_validated() {
        let mut names: Vec<&str> = RESPONDERS.iter().map(|k| k.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RESPONDERS.len());
        assert!(problem("block_ip").is_none());
        assert!(problem("kill_process").is_none());
        assert!(problem("reboot")
            .unwrap()
            .contains("use block_ip or kill_process"));
        assert!(ban_time_problem(&["kill_process".into()]).is_some());
        assert!(ban_time_problem(&["block_ip".into()]).is_none());
    }
}
