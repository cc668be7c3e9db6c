//! Rules written in Rhai (`*.rhai`).
//!
//! A script declares `const META = #{ id, title, severity, mitre, types, suppress, tests }`
//! (and optionally description, tags, enabled, response, ban_time)
//! at its top level and `fn on_event(ev)`, which the engine calls for each event of the
//! wanted types with the event as an object map. The script keeps state through a bounded
//! per-rule store (`count`, `distinct`, `remember`, `recall`, `seen`, `first_seen`, all on
//! event time) and raises alerts with `alert(#{ group: #{…}, title, severity, count })`.
//!
//! Sandbox: the Rhai engine has no file, network or process functions, no module
//! resolver (`import` is refused at compile time), no `eval`, and limits on operations per
//! call, call depth, expression depth and string, array and map sizes. A call that fails
//! (including running out of operations) is reported with its position and the event; after
//! [`MAX_CONSECUTIVE_FAILURES`] failures in a row the rule is disabled in that engine.
//!
//! - `state`: the rule's memory and the state API; `event_map`: the event as a map;
//!   `raise`: alerts a script asks for; `compile`: a script file → [`Rule`]. The sandbox
//!   itself (limits, `META` compilation) is [`crate::base::sandbox`], shared with the
//!   configuration checks.

mod compile;
mod event_map;
mod raise;
mod state;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

use rhai::{CallFnOptions, Dynamic, AST};

use super::compile::{CompileError, Rule};
use crate::base::sandbox::describe_error;
use crate::model::event::Event;
use crate::model::Severity;

pub use compile::compile_script;
pub use event_map::{event_map, FieldMask};
pub use state::ScriptState;
use state::{lock, Shared, CURRENT};

/// Most keys (counters, sets and remembered values together) one rule keeps; the least
/// recently used key goes first.
pub const MAX_KEYS: usize = 50_000;
/// Most times one counter, or values one distinct set, holds.
pub const MAX_PER_KEY: usize = 10_000;
/// Failures in a row after which a rule is disabled.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 10;
/// Most alerts one call may raise.
const MAX_ALERTS_PER_CALL: usize = 16;

/// A compiled script rule: the sandboxed engine and the script's functions.
pub struct Script {
    engine: rhai::Engine,
    ast: AST,
    /// Where `fn on_event` starts: the position of a failure Rhai does not place (such as
    /// running out of operations).
    on_event_line: usize,
    /// The event fields `on_event` reads, when that can be told from its source; the map
    /// the script gets is built with only these (building all of them for every event
    /// was the largest cost of a script rule).
    fields: FieldMask,
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Script")
    }
}

/// How a script rule is doing in one engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptStatus {
    pub disabled: bool,
    /// Failed calls, in all.
    pub failures: u64,
    /// Failed calls since the last one that succeeded.
    pub consecutive: u32,
    pub last_error: Option<String>,
}

/// An alert the script asked for.
#[derive(Debug, Clone)]
pub struct Raised {
    pub group: std::collections::BTreeMap<String, String>,
    pub title: Option<String>,
    pub severity: Option<Severity>,
    pub count: Option<u64>,
}

impl Script {
    /// Runs `on_event` for one event. `Ok` holds the alerts it raised; `Err` the
    /// failure's message, `file:line:col: message`.
    pub fn call(&self, file: &Path, state: &Shared, e: &Event) -> Result<Vec<Raised>, String> {
        {
            let mut st = lock(state);
            st.now = e.ts.as_micros();
            st.raised.clear();
        }
        let opts = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let previous = CURRENT.with(|c| c.replace(Some(state.clone())));
        let r = self.engine.call_fn_with_options::<Dynamic>(
            opts,
            &mut rhai::Scope::new(),
            &self.ast,
            "on_event",
            (Dynamic::from_map(event_map(e, self.fields)),),
        );
        CURRENT.with(|c| *c.borrow_mut() = previous);
        let raised = std::mem::take(&mut lock(state).raised);
        match r {
            Ok(_) => Ok(raised),
            Err(err) => Err(describe_error(file, &err, self.on_event_line)),
        }
    }
}

/// Compiles a rule file by its extension: `.rhai` as a script, anything else as YAML.
pub fn compile_file(text: &str, file: &Path) -> Result<Rule, Vec<CompileError>> {
    if file.extension().is_some_and(|e| e == "rhai") {
        compile_script(text, file)
    } else {
        super::compile::compile_yaml(text, file)
    }
}
