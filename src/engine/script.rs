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

use std::collections::VecDeque;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use hashbrown::hash_map::EntryRef;
use rhai::{CallFnOptions, Dynamic, EvalAltResult, Map, AST};

use super::compile::{CompileError, Kind, Rule};
use super::condition::Matcher;
use super::spec::{Severity, TestSpec};
use crate::base::timestamp::MICROS_PER_SEC;
use crate::model::event::{Event, EventType};

/// Operations one `on_event` call may use.
pub const MAX_OPERATIONS: u64 = 100_000;
/// Function call nesting.
pub const MAX_CALL_LEVELS: usize = 32;
/// Longest string, in bytes.
pub const MAX_STRING_SIZE: usize = 64 * 1024;
/// Most elements of one array or one map.
pub const MAX_ARRAY_SIZE: usize = 10_000;
pub const MAX_MAP_SIZE: usize = 10_000;
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

enum Entry {
    Times(VecDeque<i64>),
    Set(DistinctSet),
    Value(Dynamic, i64),
}

/// A script's store and its distinct sets, keyed by attacker-influenced text (user names,
/// addresses): std's keyed SipHash, seeded per table.
type Table<V> = hashbrown::HashMap<Arc<str>, V, std::collections::hash_map::RandomState>;

/// Distinct values with the time each was last seen, and the order they were seen in, so
/// expiry pops from the front instead of scanning the set on every call (a distributed
/// attack fills the set to its cap).
#[derive(Default)]
struct DistinctSet {
    last_seen: Table<i64>,
    /// (time, value) in arrival order; an entry is stale when the value was seen again later.
    arrivals: VecDeque<(i64, Arc<str>)>,
}

impl DistinctSet {
    /// Adds `value` at `now`, forgets values last seen before `from`, and returns how many
    /// distinct values remain (at most `cap`; new values beyond it are not recorded).
    fn observe(&mut self, value: &str, now: i64, from: i64, cap: usize) -> usize {
        while let Some((t, v)) = self.arrivals.front() {
            if *t >= from {
                break;
            }
            if self.last_seen.get(v) == Some(t) {
                self.last_seen.remove(v);
            }
            self.arrivals.pop_front();
        }
        // One hash per value; one allocation per new value, shared by the set and the
        // arrival queue.
        let held = self.last_seen.len();
        match self.last_seen.entry_ref(value) {
            EntryRef::Occupied(mut o) => {
                *o.get_mut() = now;
                self.arrivals.push_back((now, o.key().clone()));
            }
            EntryRef::Vacant(v) if held < cap => {
                let k: Arc<str> = value.into();
                v.insert_with_key(k.clone(), now);
                self.arrivals.push_back((now, k));
            }
            EntryRef::Vacant(_) => {}
        }
        // Repeats of known values leave stale arrivals behind: compact when they dominate.
        if self.arrivals.len() > 4 * cap.max(16) {
            let live = &self.last_seen;
            self.arrivals.retain(|(t, v)| live.get(v) == Some(t));
        }
        self.last_seen.len()
    }
}

/// A script rule's memory in one engine: bounded, on event time.
#[derive(Default)]
pub struct ScriptState {
    entries: Table<(Entry, u64)>,
    order: VecDeque<(Arc<str>, u64)>,
    /// Reused buffer for `kind\u{1f}key`, so a lookup of a known key allocates nothing.
    key_buf: String,
    next_gen: u64,
    now: i64,
    raised: Vec<Raised>,
    pub status: ScriptStatus,
}

impl fmt::Debug for ScriptState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptState")
            .field("keys", &self.entries.len())
            .field("status", &self.status)
            .finish()
    }
}

impl ScriptState {
    /// Keys currently held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Puts the store's key for `key` of this kind (`c`ount, `d`istinct, `v`alue) in
    /// `key_buf`: `kind\u{1f}key`, so the kinds never share an entry.
    fn set_key(&mut self, kind: char, key: &str) {
        self.key_buf.clear();
        self.key_buf.push(kind);
        self.key_buf.push('\u{1f}');
        self.key_buf.push_str(key);
    }

    /// The entry for `kind\u{1f}key`, marked most recently used, created by `new` if
    /// absent. The key is hashed once, unless the store is full and must make room first.
    fn entry(&mut self, kind: char, key: &str, new: impl FnOnce() -> Entry) -> &mut Entry {
        let gen = self.next_gen;
        self.next_gen += 1;
        self.set_key(kind, key);
        if self.entries.len() >= MAX_KEYS && !self.entries.contains_key(self.key_buf.as_str()) {
            while self.entries.len() >= MAX_KEYS {
                let Some((old, g)) = self.order.pop_front() else {
                    break;
                };
                if self.entries.get(&old).is_some_and(|(_, eg)| *eg == g) {
                    self.entries.remove(&old);
                }
            }
        }
        self.compact_order();
        let slot = match self.entries.entry_ref(self.key_buf.as_str()) {
            EntryRef::Occupied(o) => {
                self.order.push_back((o.key().clone(), gen));
                o.into_mut()
            }
            EntryRef::Vacant(v) => {
                let k: Arc<str> = v.key().into();
                self.order.push_back((k.clone(), gen));
                v.insert_with_key(k, (new(), gen))
            }
        };
        slot.1 = gen;
        &mut slot.0
    }

    fn count(&mut self, key: &str, window: i64) -> i64 {
        let now = self.now;
        let from = now - window.max(0) * MICROS_PER_SEC;
        let e = self.entry('c', key, || Entry::Times(VecDeque::new()));
        if !matches!(e, Entry::Times(_)) {
            *e = Entry::Times(VecDeque::new());
        }
        let Entry::Times(t) = e else { unreachable!() };
        while t.front().is_some_and(|x| *x < from) {
            t.pop_front();
        }
        t.push_back(now);
        while t.len() > MAX_PER_KEY {
            t.pop_front();
        }
        t.len() as i64
    }

    fn distinct(&mut self, key: &str, value: &str, window: i64) -> i64 {
        let now = self.now;
        let from = now - window.max(0) * MICROS_PER_SEC;
        let e = self.entry('d', key, || Entry::Set(DistinctSet::default()));
        if !matches!(e, Entry::Set(_)) {
            *e = Entry::Set(DistinctSet::default());
        }
        let Entry::Set(s) = e else { unreachable!() };
        s.observe(value, now, from, MAX_PER_KEY) as i64
    }

    fn remember(&mut self, key: &str, value: Dynamic, ttl: i64) {
        let until = self
            .now
            .saturating_add(ttl.max(0).saturating_mul(MICROS_PER_SEC));
        let e = self.entry('v', key, || Entry::Value(Dynamic::UNIT, 0));
        *e = Entry::Value(value, until);
    }

    /// The live value remembered under `key`, if any (else `absent` is remembered and
    /// `None` returned); either way the key is kept `ttl` seconds more. One lookup for
    /// what `recall` and `remember` do in two lookups and two calls.
    fn keep(&mut self, key: &str, ttl: i64, absent: Dynamic) -> Option<Dynamic> {
        let now = self.now;
        let until = now.saturating_add(ttl.max(0).saturating_mul(MICROS_PER_SEC));
        let e = self.entry('v', key, || Entry::Value(Dynamic::UNIT, 0));
        match e {
            Entry::Value(v, u) if *u > now && !v.is_unit() => {
                *u = until;
                Some(v.clone())
            }
            _ => {
                *e = Entry::Value(absent, until);
                None
            }
        }
    }

    /// Whether a live value is remembered under `key` (`true` is remembered if not):
    /// "have I seen this before?" in one call.
    fn seen(&mut self, key: &str, ttl: i64) -> bool {
        self.keep(key, ttl, Dynamic::TRUE).is_some()
    }

    /// The value remembered under `key`, or else the event's time (µs), remembered. With
    /// a key per user: when the user was first seen, as long as they keep coming back
    /// within `ttl`.
    fn first_seen(&mut self, key: &str, ttl: i64) -> Dynamic {
        let now = Dynamic::from_int(self.now);
        self.keep(key, ttl, now.clone()).unwrap_or(now)
    }

    /// Every use of a key queues it again; the queue's stale entries (keys used since or
    /// gone) are dropped once they outnumber the live ones, so it stays within twice the
    /// keys held (a rule with a few hundred keys used to grow it to 2 × [`MAX_KEYS`]
    /// entries, megabytes, before the first clean-up).
    fn compact_order(&mut self) {
        if self.order.len() > 2 * self.entries.len() + 64 {
            let entries = &self.entries;
            self.order
                .retain(|(k, g)| entries.get(k).is_some_and(|(_, eg)| eg == g));
        }
    }

    /// The value remembered under `key`, if it has not expired; a live value is marked
    /// most recently used, an expired one dropped. One lookup.
    fn recall(&mut self, key: &str) -> Dynamic {
        self.set_key('v', key);
        let (now, gen) = (self.now, self.next_gen);
        let used = match self.entries.get_key_value_mut(self.key_buf.as_str()) {
            Some((k, (Entry::Value(v, until), g))) if *until > now => {
                *g = gen;
                Some((k.clone(), v.clone()))
            }
            Some(_) => None,
            None => return Dynamic::UNIT,
        };
        match used {
            Some((k, v)) => {
                self.next_gen += 1;
                self.compact_order();
                self.order.push_back((k, gen));
                v
            }
            None => {
                self.entries.remove(self.key_buf.as_str());
                Dynamic::UNIT
            }
        }
    }
}

type Shared = Arc<Mutex<ScriptState>>;

thread_local! {
    /// The state of the rule whose `on_event` runs on this thread. A thread-local rather
    /// than Rhai's call tag: a tag is a boxed `Dynamic`, allocated and cloned per call.
    static CURRENT: std::cell::RefCell<Option<Shared>> = const { std::cell::RefCell::new(None) };
}

fn state() -> Result<Shared, Box<EvalAltResult>> {
    CURRENT
        .with(|c| c.borrow().clone())
        .ok_or_else(|| "the state API is only available inside on_event".into())
}

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, ScriptState> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// `v` as text, borrowed when it is a string (the common case: no copy per call).
fn with_text<R>(v: &Dynamic, f: impl FnOnce(&str) -> R) -> R {
    match v.read_lock::<rhai::ImmutableString>() {
        Some(s) => f(s.as_str()),
        None => f(&v.to_string()),
    }
}

fn text(v: &Dynamic) -> String {
    if v.is_string() {
        v.clone().into_string().unwrap_or_default()
    } else {
        v.to_string()
    }
}

/// The sandbox without any host functions: no module resolver, no `eval`, `import` or
/// `export`, print and debug silenced, and the operation, depth and size limits above.
/// Rules add their state API to it ([`sandbox`]); configuration checks add their
/// read-only host API (`crate::checks::rhai_check`).
pub fn limited_engine() -> rhai::Engine {
    let mut e = rhai::Engine::new();
    e.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    e.disable_symbol("eval");
    e.disable_symbol("import");
    e.disable_symbol("export");
    e.set_max_operations(MAX_OPERATIONS);
    e.set_max_call_levels(MAX_CALL_LEVELS);
    e.set_max_expr_depths(64, 32);
    e.set_max_string_size(MAX_STRING_SIZE);
    e.set_max_array_size(MAX_ARRAY_SIZE);
    e.set_max_map_size(MAX_MAP_SIZE);
    e.set_max_modules(0);
    e.on_print(|_| {});
    e.on_debug(|_, _, _| {});
    e
}

/// The sandboxed engine every script runs in: [`limited_engine`] with the rule state API.
pub fn sandbox() -> rhai::Engine {
    let mut e = limited_engine();
    // Each function is registered twice: with string keys, the form scripts use, and with
    // `Dynamic` ones for anything else. Rhai looks a call up by its argument types and
    // keeps no lookup from one `on_event` call to the next; a call that only a `Dynamic`
    // signature matches costs it a search through every permutation of `Dynamic`
    // arguments, each time. An exact signature is found at once.
    e.register_fn(
        "count",
        |key: Str, window: i64| -> Result<i64, Box<EvalAltResult>> {
            Ok(lock(&state()?).count(&key, window))
        },
    );
    e.register_fn(
        "count",
        |key: Dynamic, window: i64| -> Result<i64, Box<EvalAltResult>> {
            let s = state()?;
            Ok(with_text(&key, |k| lock(&s).count(k, window)))
        },
    );
    e.register_fn(
        "distinct",
        |key: Str, value: Str, window: i64| -> Result<i64, Box<EvalAltResult>> {
            Ok(lock(&state()?).distinct(&key, &value, window))
        },
    );
    e.register_fn(
        "distinct",
        |key: Dynamic, value: Dynamic, window: i64| -> Result<i64, Box<EvalAltResult>> {
            let s = state()?;
            Ok(with_text(&key, |k| {
                with_text(&value, |v| lock(&s).distinct(k, v, window))
            }))
        },
    );
    e.register_fn(
        "remember",
        |key: Str, value: Dynamic, ttl: i64| -> Result<(), Box<EvalAltResult>> {
            lock(&state()?).remember(&key, value, ttl);
            Ok(())
        },
    );
    e.register_fn(
        "remember",
        |key: Dynamic, value: Dynamic, ttl: i64| -> Result<(), Box<EvalAltResult>> {
            let s = state()?;
            with_text(&key, |k| lock(&s).remember(k, value, ttl));
            Ok(())
        },
    );
    e.register_fn(
        "recall",
        |key: Str| -> Result<Dynamic, Box<EvalAltResult>> { Ok(lock(&state()?).recall(&key)) },
    );
    e.register_fn(
        "recall",
        |key: Dynamic| -> Result<Dynamic, Box<EvalAltResult>> {
            let s = state()?;
            Ok(with_text(&key, |k| lock(&s).recall(k)))
        },
    );
    e.register_fn(
        "seen",
        |key: Str, ttl: i64| -> Result<bool, Box<EvalAltResult>> {
            Ok(lock(&state()?).seen(&key, ttl))
        },
    );
    e.register_fn(
        "seen",
        |key: Dynamic, ttl: i64| -> Result<bool, Box<EvalAltResult>> {
            let s = state()?;
            Ok(with_text(&key, |k| lock(&s).seen(k, ttl)))
        },
    );
    e.register_fn(
        "first_seen",
        |key: Str, ttl: i64| -> Result<Dynamic, Box<EvalAltResult>> {
            Ok(lock(&state()?).first_seen(&key, ttl))
        },
    );
    e.register_fn(
        "first_seen",
        |key: Dynamic, ttl: i64| -> Result<Dynamic, Box<EvalAltResult>> {
            let s = state()?;
            Ok(with_text(&key, |k| lock(&s).first_seen(k, ttl)))
        },
    );
    e.register_fn("alert", |m: Map| -> Result<(), Box<EvalAltResult>> {
        let raised = raised_from(m)?;
        let s = state()?;
        let mut st = lock(&s);
        if st.raised.len() >= MAX_ALERTS_PER_CALL {
            return Err("too many alerts in one call".into());
        }
        st.raised.push(raised);
        Ok(())
    });
    e
}

/// A Rhai string argument.
type Str = rhai::ImmutableString;

fn raised_from(m: Map) -> Result<Raised, Box<EvalAltResult>> {
    let mut r = Raised {
        group: Default::default(),
        title: None,
        severity: None,
        count: None,
    };
    for (k, v) in m {
        match k.as_str() {
            "group" => {
                let g = v.try_cast::<Map>().ok_or("alert: `group` must be a map")?;
                for (gk, gv) in g {
                    if !gv.is_unit() {
                        r.group.insert(gk.to_string(), text(&gv));
                    }
                }
            }
            "title" => r.title = Some(text(&v)),
            "severity" => {
                r.severity = Some(Severity::from_str(&text(&v)).map_err(|e| format!("alert: {e}"))?)
            }
            "count" => {
                r.count = Some(
                    v.as_int()
                        .map_err(|_| "alert: `count` must be an integer")?
                        .max(1) as u64,
                )
            }
            other => {
                return Err(format!(
                    "alert: unknown field `{other}`: use group, title, severity or count"
                )
                .into())
            }
        }
    }
    Ok(r)
}

/// The fields of the event map, in the order of [`FieldMask`]'s bits.
const MAP_FIELDS: [&str; 20] = [
    "ts",
    "type",
    "line",
    "source",
    "host",
    "program",
    "src_host",
    "user",
    "target_user",
    "method",
    "outcome",
    "command",
    "package",
    "version",
    "process",
    "path",
    "src_ip",
    "src_port",
    "pid",
    "extra",
];

/// Which event fields a script's map gets: a bit per [`MAP_FIELDS`] entry, worked out once
/// when the script is compiled, so building the map tests bits rather than names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMask(u32);

impl FieldMask {
    pub const ALL: FieldMask = FieldMask(u32::MAX);

    /// The fields named (`None`: all of them).
    pub fn of(fields: Option<&[String]>) -> FieldMask {
        let Some(fields) = fields else {
            return FieldMask::ALL;
        };
        FieldMask(
            fields
                .iter()
                .filter_map(|f| MAP_FIELDS.iter().position(|n| n == f))
                .fold(0, |m, i| m | 1 << i),
        )
    }

    fn has(self, field: usize) -> bool {
        self.0 & (1 << field) != 0
    }
}

/// The event as the script sees it: its fields as strings (absent ones missing, so they
/// read as `()`), `ts` in microseconds, `extra` as a map. Only the fields in `fields`.
pub fn event_map(e: &Event, fields: FieldMask) -> Map {
    let mut m = Map::new();
    // The numbers are indexes into MAP_FIELDS. Values are built only for wanted fields.
    let mut put = |field: usize, v: &mut dyn FnMut() -> Option<Dynamic>| {
        if fields.has(field) {
            if let Some(v) = v() {
                m.insert(MAP_FIELDS[field].into(), v);
            }
        }
    };
    let text = |v: Option<&str>| v.map(|v| -> Dynamic { v.into() });
    put(0, &mut || Some(Dynamic::from_int(e.ts.as_micros())));
    put(1, &mut || Some(e.kind.as_str().into()));
    put(2, &mut || Some((&*e.line).into()));
    put(3, &mut || Some(e.source.as_ref().into()));
    put(4, &mut || text(e.host.as_deref()));
    put(5, &mut || text(e.program.as_deref()));
    put(6, &mut || text(e.src_host.as_deref()));
    put(7, &mut || text(e.user.as_deref()));
    put(8, &mut || text(e.target_user.as_deref()));
    put(9, &mut || text(e.method.as_deref()));
    put(10, &mut || text(e.outcome.map(|o| o.as_str())));
    put(11, &mut || text(e.command.as_deref()));
    put(12, &mut || text(e.package.as_deref()));
    put(13, &mut || text(e.version.as_deref()));
    put(14, &mut || text(e.process.as_deref()));
    put(15, &mut || text(e.path.as_deref()));
    put(16, &mut || {
        e.src_ip.map(|ip| crate::model::ip::ip_text(ip).into())
    });
    put(17, &mut || e.src_port.map(|p| Dynamic::from_int(p.into())));
    put(18, &mut || e.pid.map(|p| Dynamic::from_int(p.into())));
    put(19, &mut || {
        (!e.extra.is_empty()).then(|| {
            let x: Map = e
                .extra
                .iter()
                .map(|(k, v)| (k.as_ref().into(), v.as_str().into()))
                .collect();
            Dynamic::from_map(x)
        })
    });
    m
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

/// `file:line:col: message` for the innermost error.
pub(crate) fn describe_error(file: &Path, err: &EvalAltResult, fallback_line: usize) -> String {
    let mut inner = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, e, _) = inner {
        inner = e;
    }
    let pos = inner.position();
    let pos = if pos.is_none() { err.position() } else { pos };
    let mut msg = inner.to_string();
    // Rhai appends the position itself: keep one, in front.
    if let Some(i) = msg.rfind(" (line ") {
        msg.truncate(i);
    }
    format!(
        "{}:{}:{}: {msg}",
        file.display(),
        pos.line().unwrap_or(fallback_line),
        pos.position().unwrap_or(1)
    )
}

pub fn meta_error(file: &Path, line: u32, message: impl Into<String>) -> CompileError {
    CompileError {
        file: file.to_path_buf(),
        line,
        column: 1,
        message: message.into(),
    }
}

/// Compiles a script and runs its top level for `const META = #{ … }` (rules and checks
/// both declare themselves so); every error carries its position. Also gives META's line.
pub fn compile_meta(
    engine: &rhai::Engine,
    source: &str,
    file: &Path,
) -> Result<(rhai::AST, Map, u32), Vec<CompileError>> {
    let ast = engine.compile(source).map_err(|e| {
        let pos = e.position();
        vec![CompileError {
            file: file.to_path_buf(),
            line: pos.line().unwrap_or(0) as u32,
            column: pos.position().unwrap_or(0) as u32,
            message: e.err_type().to_string(),
        }]
    })?;
    let meta_line = source
        .lines()
        .position(|l| l.contains("META"))
        .map_or(1, |i| i as u32 + 1);
    let mut scope = rhai::Scope::new();
    engine.run_ast_with_scope(&mut scope, &ast).map_err(|e| {
        vec![meta_error(
            file,
            meta_line,
            describe_error(file, &e, meta_line as usize),
        )]
    })?;
    let meta: Map = scope
        .get_value::<Map>("META")
        .ok_or_else(|| vec![meta_error(file, 1, "no `const META = #{ … }` map")])?;
    Ok((ast, meta, meta_line))
}

/// Compiles a `*.rhai` rule.
pub fn compile_script(source: &str, file: &Path) -> Result<Rule, Vec<CompileError>> {
    let engine = sandbox();
    let (full, meta, meta_line) = compile_meta(&engine, source, file)?;
    if !full
        .iter_functions()
        .any(|f| f.name == "on_event" && f.params.len() == 1)
    {
        return Err(vec![meta_error(file, 1, "no `fn on_event(ev)`")]);
    }
    let mut errs = Vec::new();
    let mut err = |m: String| errs.push(meta_error(file, meta_line, m));
    let get_str = |k: &str| meta.get(k).map(text);
    let id = get_str("id").unwrap_or_default();
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
    {
        err(format!(
            "META.id `{id}`: use 1 to 64 lowercase letters, digits, `-` or `_`"
        ));
    }
    let title = get_str("title").unwrap_or_default();
    if title.is_empty() {
        err("META.title is missing".into());
    }
    let severity = match get_str("severity").as_deref().map(Severity::from_str) {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            err(format!("META.severity: {e}"));
            Severity::Low
        }
        None => {
            err("META.severity is missing".into());
            Severity::Low
        }
    };
    let list = |k: &str| -> Vec<String> {
        match meta.get(k) {
            Some(v) if v.is_array() => v
                .clone()
                .into_array()
                .unwrap_or_default()
                .iter()
                .map(text)
                .collect(),
            Some(v) if v.is_string() => vec![text(v)],
            _ => Vec::new(),
        }
    };
    let mitre = list("mitre");
    for m in &mitre {
        if !super::compile::valid_mitre(m) {
            err(format!(
                "META.mitre `{m}`: use an ATT&CK technique id like T1110 or T1110.001"
            ));
        }
    }
    let mut types = Vec::new();
    for t in list("types") {
        match EventType::from_str(&t) {
            Ok(t) => types.push(t),
            Err(_) => err(format!("META.types: unknown event type `{t}`")),
        }
    }
    if types.is_empty() {
        err("META.types: name the event types the rule wants".into());
    }
    let suppress = match meta.get("suppress") {
        None => None,
        Some(v) if v.is_int() => Some(v.as_int().unwrap_or(0)),
        Some(v) => match crate::model::duration::parse_secs(&text(v)) {
            Ok(s) => Some(s),
            Err(e) => {
                err(format!("META.suppress: {e}"));
                None
            }
        },
    };
    let enabled = meta
        .get("enabled")
        .is_none_or(|v| v.as_bool().unwrap_or(true));
    let tests: Vec<TestSpec> = match meta.get("tests") {
        None => Vec::new(),
        Some(v) => rhai::serde::from_dynamic(v).unwrap_or_else(|e| {
            err(format!("META.tests: {e}"));
            Vec::new()
        }),
    };
    let response = list("response");
    for r in &response {
        if let Some(p) = super::compile::response_problem(r) {
            err(format!("META.response: {p}"));
        }
    }
    let ban_time = match meta.get("ban_time") {
        None => None,
        Some(v) => {
            if let Some(p) = super::compile::ban_time_problem(&response) {
                err(format!("META.ban_time: {p}"));
            }
            let secs = if v.is_int() {
                Ok(v.as_int().unwrap_or(0))
            } else {
                crate::model::duration::parse_secs(&text(v))
            };
            match secs {
                Ok(s) if s > 0 => Some(s),
                Ok(_) => {
                    err("META.ban_time: a ban of 0 seconds: use e.g. 1h".into());
                    None
                }
                Err(e) => {
                    err(format!("META.ban_time: {e}"));
                    None
                }
            }
        }
    };
    let tags = list("tags");
    let description = get_str("description").unwrap_or_default();
    if !errs.is_empty() {
        return Err(errs);
    }
    let on_event_line = source
        .lines()
        .position(|l| l.trim_start().starts_with("fn on_event"))
        .map_or(0, |i| i + 1);
    let fields = full
        .iter_functions()
        .find(|f| f.name == "on_event")
        .and_then(|f| fields_read(source, f.params[0]));
    let fields = FieldMask::of(fields.as_deref());
    let script = Script {
        on_event_line,
        fields,
        engine,
        ast: full.clone_functions_only(),
    };
    Ok(Rule {
        id,
        title,
        description,
        severity,
        enabled,
        mitre,
        tags,
        types,
        matcher: Matcher::default(),
        kind: Kind::Script(Arc::new(script)),
        group_by: Vec::new(),
        suppress,
        allowlist: Default::default(),
        response,
        ban_time,
        tests,
        file: file.to_path_buf(),
    })
}

/// The fields a script reads from its event parameter `param`, if every use of that name
/// in the source is a plain `param.field` access. Any other use (passing the event on,
/// indexing it, copying it, even the word in a comment) gives `None`: all fields. A field
/// named only inside a string is harmless: it is merely built.
fn fields_read(source: &str, param: &str) -> Option<Vec<String>> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut fields: Vec<String> = Vec::new();
    let mut declared = false;
    for (at, _) in source.match_indices(param) {
        let before = source[..at].chars().next_back();
        let after = &source[at + param.len()..];
        if before.is_some_and(ident) || after.chars().next().is_some_and(ident) {
            continue; // part of a longer word
        }
        if !declared && source[..at].trim_end().ends_with("on_event(") {
            declared = true;
            continue;
        }
        let rest = after.trim_start().strip_prefix('.')?.trim_start();
        let name: String = rest.chars().take_while(|&c| ident(c)).collect();
        if name.is_empty() || rest[name.len()..].trim_start().starts_with('(') {
            return None; // not a field, or a method call on the whole map (`ev.keys()`)
        }
        if !fields.contains(&name) {
            fields.push(name);
        }
    }
    Some(fields)
}

/// Compiles a rule file by its extension: `.rhai` as a script, anything else as YAML.
pub fn compile_file(text: &str, file: &Path) -> Result<Rule, Vec<CompileError>> {
    if file.extension().is_some_and(|e| e == "rhai") {
        compile_script(text, file)
    } else {
        super::compile::compile_yaml(text, file)
    }
}

#[cfg(test)]
mod distinct_set_tests {
    use super::DistinctSet;

    #[test]
    fn expires_by_time_refreshes_repeats_and_caps() {
        let mut s = DistinctSet::default();
        assert_eq!(s.observe("a", 0, -100, 3), 1);
        assert_eq!(s.observe("b", 10, -90, 3), 2);
        assert_eq!(s.observe("a", 50, -50, 3), 2, "a seen again");
        assert_eq!(s.observe("c", 60, -40, 3), 3);
        assert_eq!(s.observe("d", 61, -39, 3), 3, "capped");
        // At from = 20: b (10) expires; a was refreshed at 50 and stays.
        assert_eq!(s.observe("a", 70, 20, 3), 2);
        for t in 0..1000 {
            s.observe("a", 100 + t, 20, 3);
        }
        assert!(
            s.arrivals.len() <= 4 * 16,
            "stale arrivals are compacted: {}",
            s.arrivals.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::timestamp::Timestamp;
    use crate::engine::compile::compile_yaml;
    use crate::engine::runtime::{Engine, RuleSet};

    fn script(src: &str) -> Arc<Rule> {
        let text = format!(
            "const META = #{{ id: \"s\", title: \"s\", severity: \"low\", types: [\"ROOT_LOGIN\"] }};\n{src}"
        );
        Arc::new(compile_script(&text, Path::new("t.rhai")).unwrap())
    }

    fn engine_with(rules: Vec<Arc<Rule>>) -> Engine {
        Engine::new(Arc::new(RuleSet::new(rules)))
    }

    fn root_login(secs: i64) -> Event {
        let mut e = Event::new(
            Timestamp::from_secs(secs),
            EventType::RootLogin,
            "t",
            &format!("line {secs}"),
        );
        e.user = Some("root".into());
        e
    }

    fn status(eng: &Engine) -> ScriptStatus {
        eng.script_statuses()
            .into_iter()
            .find(|(id, _)| id == "s")
            .unwrap()
            .1
    }

    const YAML: &str = "id: y\ntitle: y\nseverity: low\nmatch: { type: ROOT_LOGIN }\n";

    #[test]
    fn an_endless_loop_is_stopped_and_other_rules_keep_firing() {
        for body in ["loop {}", "while true {}", "let i = 0; loop { i += 1; }"] {
            let s = script(&format!("fn on_event(ev) {{\n  {body}\n}}\n"));
            let y = Arc::new(compile_yaml(YAML, Path::new("y.yaml")).unwrap());
            let mut eng = engine_with(vec![s, y]);
            let mut out = Vec::new();
            for t in 0..3 {
                eng.on_event(&root_login(t), &mut out);
            }
            assert_eq!(out.len(), 3, "the YAML rule fired on every event");
            assert!(out.iter().all(|a| a.rule == "y"));
            let st = status(&eng);
            assert_eq!(st.failures, 3);
            assert!(!st.disabled);
            let err = st.last_error.unwrap();
            assert!(err.contains("Too many operations"), "{err}");
            assert!(err.contains("t.rhai:2:"), "{err}");
            assert!(err.ends_with("(event: line 2)"), "{err}");
        }
    }

    #[test]
    fn a_failing_script_is_reported_with_its_position_and_disabled_after_repeated_failures() {
        let s = script("fn on_event(ev) {\n    let x = 1;\n    throw \"boom\";\n}\n");
        let mut eng = engine_with(vec![s]);
        let mut out = Vec::new();
        for t in 0..(MAX_CONSECUTIVE_FAILURES as i64 - 1) {
            eng.on_event(&root_login(t), &mut out);
        }
        let st = status(&eng);
        assert!(!st.disabled);
        let err = st.last_error.unwrap();
        assert!(err.starts_with("rule s: t.rhai:4:5: "), "{err}");
        assert!(err.contains("boom"), "{err}");
        assert!(err.ends_with("(event: line 8)"), "{err}");
        for t in 100..105 {
            eng.on_event(&root_login(t), &mut out);
        }
        let st = status(&eng);
        assert!(st.disabled);
        assert_eq!(
            st.failures, MAX_CONSECUTIVE_FAILURES as u64,
            "a disabled rule is no longer called"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn a_success_resets_the_consecutive_failures() {
        let s = script("fn on_event(ev) {\n  if ev.ts % 2000000 == 0 { throw \"even\"; }\n}\n");
        let mut eng = engine_with(vec![s]);
        let mut out = Vec::new();
        for t in 0..100 {
            eng.on_event(&root_login(t), &mut out);
        }
        let st = status(&eng);
        assert!(!st.disabled);
        assert_eq!(st.failures, 50);
    }

    #[test]
    fn meta_response_and_ban_time_are_checked() {
        let script = |extra: &str| {
            format!("const META = #{{ id: \"s\", title: \"s\", severity: \"low\", types: [\"SUDO\"]{extra} }};\nfn on_event(ev) {{}}")
        };
        let rule = compile_script(
            &script(", response: [\"block_ip\"], ban_time: \"30m\""),
            Path::new("t.rhai"),
        )
        .unwrap();
        assert_eq!(
            (rule.response.clone(), rule.ban_time),
            (vec!["block_ip".to_string()], Some(1800))
        );
        for (extra, says) in [
            (", response: [\"blok_ip\"]", "unknown response `blok_ip`"),
            (", ban_time: \"1h\"", "add block_ip to response"),
            (", response: [\"block_ip\"], ban_time: 0", "0 seconds"),
        ] {
            let errs = compile_script(&script(extra), Path::new("t.rhai")).unwrap_err();
            assert!(
                errs.iter().any(|e| e.message.contains(says)),
                "{extra}: {errs:?}"
            );
        }
    }

    #[test]
    fn eval_and_import_are_refused() {
        let text = |body: &str| {
            format!("const META = #{{ id: \"s\", title: \"s\", severity: \"low\", types: [\"SUDO\"] }};\n{body}")
        };
        let bad = [
            "fn on_event(ev) { eval(\"1\") }",
            "import \"x\" as x;\nfn on_event(ev) {}",
            "fn on_event(ev) { import \"x\" as x; }",
        ];
        for b in bad {
            assert!(
                compile_script(&text(b), Path::new("t.rhai")).is_err(),
                "{b} compiled"
            );
        }
        // Not even through a function pointer.
        let s = compile_script(
            &text("fn on_event(ev) { let f = Fn(\"ev\" + \"al\"); f.call(\"1\") }"),
            Path::new("t.rhai"),
        );
        if let Ok(rule) = s {
            let Kind::Script(sc) = &rule.kind else {
                unreachable!()
            };
            let st: Shared = Default::default();
            let mut e = root_login(1);
            e.kind = EventType::Sudo;
            assert!(sc.call(Path::new("t.rhai"), &st, &e).is_err());
        }
    }

    #[test]
    fn string_and_array_sizes_are_limited() {
        for (body, want) in [
            ("let s = \"xxxxxxxx\"; loop { s += s; }", "Length of string"),
            (
                "let a = []; loop { a += [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]; }",
                "Size of array",
            ),
        ] {
            let s = script(&format!("fn on_event(ev) {{\n  {body}\n}}\n"));
            let mut eng = engine_with(vec![s]);
            eng.on_event(&root_login(1), &mut Vec::new());
            let err = status(&eng).last_error.unwrap();
            assert!(err.contains(want), "{body}: {err}");
        }
    }

    #[test]
    fn the_state_api_stays_bounded() {
        let mut st = ScriptState::default();
        for i in 0..1_000_000i64 {
            st.now = i * 1000;
            st.count(&i.to_string(), 60);
        }
        assert!(st.len() <= MAX_KEYS, "{}", st.len());
        assert!(st.order.len() <= 2 * MAX_KEYS + 64);
        // One key with many values and times: capped per key too.
        for i in 0..(MAX_PER_KEY as i64 * 2) {
            st.now = 2_000_000_000 + i;
            st.distinct("k", &i.to_string(), 3600);
            st.count("k", 3600);
        }
        assert_eq!(st.distinct("k", "x", 3600), MAX_PER_KEY as i64);
        assert_eq!(st.count("k", 3600), MAX_PER_KEY as i64);
        // Recalling one value over and over keeps the use queue bounded as well.
        st.remember("v", Dynamic::from_int(7), 1_000_000);
        for _ in 0..(3 * MAX_KEYS) {
            assert_eq!(st.recall("v").as_int(), Ok(7));
        }
        assert!(st.order.len() <= 2 * MAX_KEYS + 64);
        // An expired value reads as () and is gone.
        st.now += 1_000_001 * MICROS_PER_SEC;
        assert!(st.recall("v").is_unit());
        assert!(st.entries.get("v\u{1f}v").is_none());
        // A rule with few keys keeps a short queue, however often it uses them.
        let mut few = ScriptState::default();
        for i in 0..100_000i64 {
            few.now = i;
            few.remember(&(i % 3).to_string(), Dynamic::from_int(i), 60);
            assert_eq!(few.recall(&(i % 3).to_string()).as_int(), Ok(i));
        }
        assert_eq!(few.len(), 3);
        assert!(few.order.len() <= 2 * 3 + 64 + 1, "{}", few.order.len());
    }

    #[test]
    fn seen_and_first_seen_remember_and_slide_their_expiry() {
        let mut st = ScriptState::default();
        let sec = MICROS_PER_SEC;
        st.now = 10 * sec;
        assert!(!st.seen("k", 60), "new");
        assert_eq!(st.recall("k").as_bool(), Ok(true), "remembered as true");
        st.now = 50 * sec;
        assert!(st.seen("k", 60), "within 60 s");
        // Each sighting keeps the key 60 s more: 100 s is within 60 s of the one at 50.
        st.now = 100 * sec;
        assert!(st.seen("k", 60));
        st.now = 161 * sec;
        assert!(!st.seen("k", 60), "expired 60 s after the last sighting");
        // A value remembered otherwise counts, and is kept as it was.
        st.remember("r", Dynamic::from("x"), 60);
        assert!(st.seen("r", 60));
        assert_eq!(st.recall("r").into_string().as_deref(), Ok("x"));

        st.now = 1000 * sec;
        assert_eq!(st.first_seen("u", 60).as_int(), Ok(1000 * sec));
        st.now = 1050 * sec;
        assert_eq!(
            st.first_seen("u", 60).as_int(),
            Ok(1000 * sec),
            "the first time"
        );
        st.now = 1100 * sec;
        assert_eq!(
            st.first_seen("u", 60).as_int(),
            Ok(1000 * sec),
            "the expiry slid"
        );
        st.now = 1200 * sec;
        assert_eq!(
            st.first_seen("u", 60).as_int(),
            Ok(1200 * sec),
            "forgotten, anew"
        );
        // Both share remember's store: seen then sees a first_seen key.
        assert!(st.seen("u", 60));

        // Through a script: a new (user, line) pair after a day of history alerts.
        let s = script(
            "fn on_event(ev) {\n  let since = first_seen(\"u:\" + ev.user, 86400 * 30);\n  if !seen(\"p:\" + ev.user + ev.line, 86400 * 30) && ev.ts - since >= 86400 * 1000000 { alert(#{ group: #{ user: ev.user } }); }\n}\n",
        );
        let mut eng = engine_with(vec![s]);
        let mut out = Vec::new();
        eng.on_event(&root_login(0), &mut out);
        eng.on_event(&root_login(3600), &mut out);
        assert!(out.is_empty(), "less than a day of history");
        eng.on_event(&root_login(90_000), &mut out);
        assert_eq!(out.len(), 1, "a new line after a day");
        eng.on_event(&root_login(90_000), &mut out);
        assert_eq!(out.len(), 1, "the same line again is known");
    }

    #[test]
    fn state_is_on_event_time_and_survives_an_unchanged_rule_reload() {
        let s = script(
            "fn on_event(ev) {\n  let seen = recall(\"u\");\n  remember(\"u\", ev.ts, 60);\n  if count(\"c\", 10) >= 3 && seen != () { alert(#{ group: #{ user: ev.user }, title: \"three\" }); }\n}\n",
        );
        let rules = Arc::new(RuleSet::new(vec![s]));
        let mut eng = Engine::new(rules.clone());
        let mut out = Vec::new();
        eng.on_event(&root_login(0), &mut out);
        eng.on_event(&root_login(1), &mut out);
        eng.replace_rules(Arc::new(RuleSet::new(rules.rules().to_vec())), &mut out);
        eng.on_event(&root_login(2), &mut out);
        assert_eq!(out.len(), 1, "the count survived the reload");
        assert_eq!(out[0].title, "three");
        assert_eq!(out[0].group["user"], "root");
        assert_eq!(out[0].evidence, vec![Arc::<str>::from("line 2")]);
        // Twenty seconds later the window is empty again.
        out.clear();
        eng.on_event(&root_login(30), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn only_the_fields_a_script_reads_are_built() {
        let src = "fn on_event(ev) {\n  if ev.user == () { return; }\n  count(ev . src_ip, 5);\n  let event = 1; // prevents nothing\n}\n";
        assert_eq!(
            fields_read(src, "ev"),
            Some(vec!["user".to_string(), "src_ip".to_string()])
        );
        for whole in [
            "fn on_event(ev) { helper(ev) }",
            "fn on_event(ev) { let x = ev; }",
            "fn on_event(ev) { ev[\"user\"] }",
            "fn on_event(ev) { ev.keys() }",
            "// ev is the event\nfn on_event(ev) { ev.user }",
        ] {
            assert_eq!(fields_read(whole, "ev"), None, "{whole}");
        }
        let e = root_login(5);
        let m = event_map(&e, FieldMask::of(Some(&["user".to_string()])));
        assert_eq!(m.len(), 1);
        assert!(m.contains_key("user"));
        assert!(event_map(&e, FieldMask::ALL).len() > 3);
        assert!(event_map(&e, FieldMask::of(Some(&[]))).is_empty());
    }

    #[test]
    fn bad_metadata_is_reported() {
        let e = compile_script(
            "const META = #{ id: \"Bad Id\", title: \"t\", severity: \"huge\", mitre: [\"X1\"], types: [\"NOPE\"] };\nfn on_event(ev) {}\n",
            Path::new("b.rhai"),
        )
        .unwrap_err();
        let all: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        assert_eq!(all.len(), 5, "{all:?}");
        assert!(all.iter().all(|m| m.starts_with("b.rhai:1:")), "{all:?}");
        let syntax =
            compile_script("fn on_event(ev) {\n  let = 1;\n}\n", Path::new("c.rhai")).unwrap_err();
        assert!(
            syntax[0].to_string().starts_with("c.rhai:2:"),
            "{}",
            syntax[0]
        );
    }
}
