//! A script rule's memory and the state API scripts call (`count`, `distinct`,
//! `remember`, `recall`, `seen`, `first_seen`, `alert`): bounded per rule, on event time,
//! keyed by attacker-influenced text with a keyed hash.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

use hashbrown::hash_map::EntryRef;
use rhai::{Dynamic, EvalAltResult, Map};

use super::raise::raised_from;
use super::{Raised, ScriptStatus, MAX_ALERTS_PER_CALL, MAX_KEYS, MAX_PER_KEY};
use crate::base::sandbox::limited_engine;
use crate::base::timestamp::MICROS_PER_SEC;

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
    pub(super) now: i64,
    pub(super) raised: Vec<Raised>,
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

pub(super) type Shared = Arc<Mutex<ScriptState>>;

thread_local! {
    /// The state of the rule whose `on_event` runs on this thread. A thread-local rather
    /// than Rhai's call tag: a tag is a boxed `Dynamic`, allocated and cloned per call.
    pub(super) static CURRENT: std::cell::RefCell<Option<Shared>> = const { std::cell::RefCell::new(None) };
}

fn state() -> Result<Shared, Box<EvalAltResult>> {
    CURRENT
        .with(|c| c.borrow().clone())
        .ok_or_else(|| "the state API is only available inside on_event".into())
}

pub(super) fn lock(s: &Shared) -> std::sync::MutexGuard<'_, ScriptState> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// `v` as text, borrowed when it is a string (the common case: no copy per call).
fn with_text<R>(v: &Dynamic, f: impl FnOnce(&str) -> R) -> R {
    match v.read_lock::<rhai::ImmutableString>() {
        Some(s) => f(s.as_str()),
        None => f(&v.to_string()),
    }
}

pub(super) fn text(v: &Dynamic) -> String {
    if v.is_string() {
        v.clone().into_string().unwrap_or_default()
    } else {
        v.to_string()
    }
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
    use super::super::tests::{engine_with, root_login, script};
    use super::*;

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
}
