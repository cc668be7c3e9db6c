//! The engine: offers each event to the rules that want its type, keeps their windowed
//! state per group, and emits alerts.
//!
//! Time is the events' own (`ts`), never the wall clock, so a replay of last week's log
//! raises exactly the alerts watching it live did. All state is bounded: at most
//! `max_groups` groups per rule (the oldest evicted first), windows cut to what
//! the rule can still use, evidence capped.

use std::collections::VecDeque;
use std::sync::Arc;

use super::compile::{Kind, Rule};
use super::condition::Field;
use super::distinct::DistinctValues;
use super::groups::{key_hash, Groups};
use super::script::{Raised, ScriptState, ScriptStatus};
use crate::base::timestamp::{Timestamp, MICROS_PER_SEC};
use crate::model::alert::{Alert, AlertStatus, MAX_EVIDENCE};
use crate::model::event::{Event, EventType};

/// Compiled rules, indexed by the event types they want.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Arc<Rule>>,
    by_type: Vec<Vec<usize>>,
    /// One literal scan per field for all the rules' regexes.
    prefilter: super::prefilter::Prefilter,
    /// Per rule, the number of its `group_by` field list among the distinct ones (rules
    /// with the same list share one key per event).
    group_lists: Vec<usize>,
}

impl RuleSet {
    pub fn new(rules: Vec<Arc<Rule>>) -> RuleSet {
        let mut by_type = vec![Vec::new(); EventType::ALL.len()];
        for (i, r) in rules.iter().enumerate() {
            if !r.enabled {
                continue;
            }
            for t in &r.types {
                by_type[type_index(*t)].push(i);
            }
        }
        let prefilter = super::prefilter::Prefilter::build(&rules);
        let mut lists: Vec<&[Field]> = Vec::new();
        let group_lists = rules
            .iter()
            .map(|r| {
                let at = lists.iter().position(|l| *l == r.group_by.as_slice());
                at.unwrap_or_else(|| {
                    lists.push(&r.group_by);
                    lists.len() - 1
                })
            })
            .collect();
        RuleSet {
            rules,
            by_type,
            prefilter,
            group_lists,
        }
    }
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }
    pub fn len(&self) -> usize {
        self.rules.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// The type's place in [`EventType::ALL`], which lists the types in declaration order
/// (a test in `event` keeps them so): the discriminant, without a search per event.
fn type_index(t: EventType) -> usize {
    t as usize
}

/// Most groups one rule tracks by default.
pub const DEFAULT_MAX_GROUPS: usize = 50_000;
/// Lines kept per group before a rule fires (the alert's first evidence).
const PENDING_EVIDENCE: usize = 5;

#[derive(Debug, Default)]
struct GroupState {
    last: Timestamp,
    /// Threshold: times of matching events in the window (oldest first), at most `count`.
    times: VecDeque<Timestamp>,
    /// Distinct: value → last time seen.
    values: DistinctValues,
    /// Sequence: current step, events counted in it, events in the sequence, start.
    step: usize,
    step_count: u32,
    seq_events: u64,
    started: Option<Timestamp>,
    /// The group's latest lines, the evidence an alert starts with.
    pending: VecDeque<Arc<str>>,
    /// The alert changed since the last [`Engine::flush`].
    dirty: bool,
    /// The alert still within its suppression period, and when that period ends.
    alert: Option<Box<Alert>>,
    suppressed_until: Timestamp,
}

impl GroupState {
    /// Within the suppression period a matching event updates the alert instead of raising
    /// one. `Some(newly_dirty)` when it did: the caller queues a newly dirty group for
    /// [`Engine::flush`].
    fn absorb(&mut self, e: &Event) -> Option<bool> {
        if e.ts >= self.suppressed_until {
            return None;
        }
        let a = self.alert.as_mut()?;
        a.is_new = false;
        a.count += 1;
        a.last_seen = a.last_seen.max(e.ts);
        a.push_evidence(&e.line);
        let newly_dirty = !self.dirty;
        self.dirty = true;
        Some(newly_dirty)
    }

    /// Records a newly fired alert: the previous one's unflushed update goes out first (it
    /// is final: nothing updates it any more), and the new one is kept for suppression
    /// when the rule has a period.
    fn raise(&mut self, alert: Alert, suppress: Option<i64>, out: &mut Vec<Alert>) {
        if let (true, Some(old)) = (self.dirty, self.alert.take()) {
            out.push(*old);
        }
        self.dirty = false;
        out.push(alert.clone());
        self.alert = suppress.map(|s| {
            self.suppressed_until = alert.last_seen.saturating_add_secs(s);
            Box::new(alert)
        });
    }
}

/// A new alert of `rule` with its fields filled from the rule.
fn new_alert(
    rule: &Rule,
    e: &Event,
    group_key: &str,
    group: std::collections::BTreeMap<String, String>,
    count: u64,
    first_seen: Timestamp,
) -> Alert {
    let target = ["user", "target_user", "path", "process"]
        .iter()
        .find_map(|k| group.get(*k).cloned())
        .or_else(|| e.program.as_deref().map(str::to_string));
    Alert {
        key: format!("{}|{}|{}", rule.id, group_key, first_seen.as_micros()),
        rule: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        mitre: rule.mitre.clone(),
        group,
        count,
        first_seen,
        last_seen: e.ts,
        status: AlertStatus::Open,
        evidence: Vec::new(),
        response: rule.response.clone(),
        ban_secs: rule.ban_time.map(|s| s.max(1) as u64),
        source: Some(e.source.to_string()),
        target,
        kind: None,
        is_new: true,
    }
}

#[derive(Debug, Default)]
struct RuleState {
    groups: Groups<GroupState>,
    /// A script rule's own store and status.
    script: Option<Arc<std::sync::Mutex<ScriptState>>>,
}

impl RuleState {
    /// The group's slot and state, created if new. Evicting a group whose alert has an
    /// unflushed update pushes that alert to `out` at once (it is final), so no update is
    /// lost and none waits in memory for the flush.
    fn group(&mut self, key: &[u8], max: usize, out: &mut Vec<Alert>) -> (u32, &mut GroupState) {
        self.group_hashed(key, key_hash(key), max, out)
    }

    /// [`RuleState::group`] with the key's hash already worked out.
    fn group_hashed(
        &mut self,
        key: &[u8],
        hash: u64,
        max: usize,
        out: &mut Vec<Alert>,
    ) -> (u32, &mut GroupState) {
        self.groups.get_or_insert_hashed(key, hash, max, |old| {
            if let (true, Some(a)) = (old.dirty, old.alert) {
                out.push(*a);
            }
        })
    }
}

/// The group keys worked out for the event being offered, one per distinct `group_by`
/// list: rules that group by the same fields (three default SSH rules group by `src_ip`)
/// reuse the key and its hash instead of each writing and hashing it again. Entries are
/// valid for the event whose number they carry, so nothing is cleared per event.
#[derive(Debug, Default)]
struct GroupKeys {
    event: u64,
    entries: Vec<GroupKey>,
    /// The keys' bytes, one after another, for the current event.
    bytes: Vec<u8>,
}

#[derive(Debug, Default, Clone, Copy)]
struct GroupKey {
    event: u64,
    /// `None`: the event lacks one of the fields, so the rules do not count it.
    span: Option<(u32, u32)>,
    hash: u64,
}

impl GroupKeys {
    /// Starts a new event (entries of earlier ones no longer count).
    fn next_event(&mut self) {
        self.event += 1;
        self.bytes.clear();
    }

    /// The key of `fields` (list number `list`) for the current event and its hash, or
    /// `None` when the event lacks a field.
    fn get(&mut self, list: usize, fields: &[Field], e: &Event) -> Option<(&[u8], u64)> {
        if list >= self.entries.len() {
            self.entries.resize(list + 1, GroupKey::default());
        }
        let entry = &mut self.entries[list];
        if entry.event != self.event {
            let start = self.bytes.len();
            let complete = fields.iter().all(|f| f.write_key(e, &mut self.bytes));
            let end = self.bytes.len();
            *entry = GroupKey {
                event: self.event,
                span: complete.then_some((start as u32, end as u32)),
                hash: if complete {
                    key_hash(&self.bytes[start..end])
                } else {
                    0
                },
            };
        }
        let entry = *entry;
        let (start, end) = entry.span?;
        Some((&self.bytes[start as usize..end as usize], entry.hash))
    }
}

/// The rule engine. One task owns it; events go in in order, alerts come out.
pub struct Engine {
    rules: Arc<RuleSet>,
    states: Vec<RuleState>,
    max_groups: usize,
    /// A distinct rule's value (compact bytes).
    value_buf: Vec<u8>,
    group_keys: GroupKeys,
    /// An empty rule set that takes the rules' place while an event is offered.
    standin: Option<Arc<RuleSet>>,
    /// Groups (rule, slot) whose alert a suppressed repeat updated since the last flush.
    dirty: Vec<(usize, u32)>,
    /// What the prefilter found in the event being offered.
    scan: super::prefilter::Scan,
}

impl Engine {
    pub fn new(rules: Arc<RuleSet>) -> Engine {
        Engine::with_max_groups(rules, DEFAULT_MAX_GROUPS)
    }

    pub fn with_max_groups(rules: Arc<RuleSet>, max_groups: usize) -> Engine {
        let states = rules.rules.iter().map(|_| RuleState::default()).collect();
        Engine {
            rules,
            states,
            max_groups: max_groups.max(1),
            value_buf: Vec::new(),
            group_keys: GroupKeys::default(),
            standin: Some(Arc::new(RuleSet::new(Vec::new()))),
            dirty: Vec::new(),
            scan: super::prefilter::Scan::default(),
        }
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Swaps in a new rule set. A rule that is the same compiled rule as before (the same
    /// `Arc`: its file did not change) keeps its windows, groups and suppressed alerts;
    /// new and changed rules start empty. Pending updates of dropped rules are flushed first.
    pub fn replace_rules(&mut self, rules: Arc<RuleSet>, out: &mut Vec<Alert>) {
        self.flush(out);
        let mut old: Vec<(Arc<Rule>, RuleState)> = self
            .rules
            .rules
            .iter()
            .cloned()
            .zip(std::mem::take(&mut self.states))
            .collect();
        self.states = rules
            .rules
            .iter()
            .map(|r| match old.iter().position(|(o, _)| Arc::ptr_eq(o, r)) {
                Some(i) => old.swap_remove(i).1,
                None => RuleState::default(),
            })
            .collect();
        self.rules = rules;
    }

    /// Groups currently tracked, over all rules (for metrics and the memory bound's test).
    pub fn tracked_groups(&self) -> usize {
        self.states.iter().map(|s| s.groups.len()).sum()
    }

    /// Pushes the alerts that suppressed repeats updated since the last flush, once each,
    /// in their current state. Call it after each batch of events: updates are coalesced
    /// so a brute force of thousands of attempts costs one copy of its alert per batch.
    pub fn flush(&mut self, out: &mut Vec<Alert>) {
        // A slot evicted since holds another group: its `dirty` says whether it has news.
        for (i, slot) in self.dirty.drain(..) {
            if let Some(g) = self.states[i].groups.slot_mut(slot) {
                if g.dirty {
                    g.dirty = false;
                    if let Some(a) = &g.alert {
                        out.push((**a).clone());
                    }
                }
            }
        }
    }

    /// Offers one event to every rule that wants its type; pushes alerts that fire now,
    /// and the last update of an alert that a new one replaced or whose group was evicted.
    /// Updates of alerts still suppressed come out of [`Engine::flush`].
    pub fn on_event(&mut self, e: &Event, out: &mut Vec<Alert>) {
        let idx = type_index(e.kind);
        if self.rules.by_type[idx].is_empty() {
            return;
        }
        // The rules are moved out for the loop (an empty set stands in), not cloned:
        // cloning and dropping the `Arc` per event was two atomic operations, a few
        // percent of a replay.
        let standin = self
            .standin
            .take()
            .unwrap_or_else(|| Arc::new(RuleSet::new(Vec::new())));
        let rules = std::mem::replace(&mut self.rules, standin);
        self.group_keys.next_event();
        let mut scan = std::mem::take(&mut self.scan);
        scan.reset();
        let mut pf = Some(super::prefilter::Check {
            pre: &rules.prefilter,
            scan: &mut scan,
        });
        for &i in &rules.by_type[idx] {
            let rule = &rules.rules[i];
            if rule.allowlist.allows(e) {
                continue;
            }
            if let Kind::Script(script) = &rule.kind {
                self.offer_script(i, rule, script, e, out);
                continue;
            }
            self.offer(i, rule, rules.group_lists[i], e, &mut pf, out);
        }
        pf.take();
        self.scan = scan;
        self.standin = Some(std::mem::replace(&mut self.rules, rules));
    }

    /// The status of each script rule in this engine (enabled or disabled, failures).
    pub fn script_statuses(&self) -> Vec<(String, ScriptStatus)> {
        self.rules
            .rules
            .iter()
            .zip(&self.states)
            .filter(|(r, _)| matches!(r.kind, Kind::Script(_)))
            .map(|(r, s)| {
                let st = s
                    .script
                    .as_ref()
                    .map(|x| x.lock().unwrap_or_else(|p| p.into_inner()).status.clone())
                    .unwrap_or_default();
                (r.id.clone(), st)
            })
            .collect()
    }

    /// Keys a script rule's store holds (for the memory bound's test).
    pub fn script_keys(&self) -> usize {
        self.states
            .iter()
            .filter_map(|s| s.script.as_ref())
            .map(|x| x.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    fn offer_script(
        &mut self,
        i: usize,
        rule: &Rule,
        script: &super::script::Script,
        e: &Event,
        out: &mut Vec<Alert>,
    ) {
        let shared = self.states[i]
            .script
            .get_or_insert_with(Default::default)
            .clone();
        if shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .status
            .disabled
        {
            return;
        }
        match script.call(&rule.file, &shared, e) {
            Ok(raised) => {
                shared
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .status
                    .consecutive = 0;
                for r in raised {
                    self.raise_script(i, rule, r, e, out);
                }
            }
            Err(msg) => {
                let msg = format!("rule {}: {msg} (event: {})", rule.id, e.line);
                let mut st = shared.lock().unwrap_or_else(|p| p.into_inner());
                let s = &mut st.status;
                s.failures += 1;
                s.consecutive += 1;
                if s.failures == 1 {
                    tracing::warn!(rule = %rule.id, "{msg}");
                }
                if s.consecutive >= super::script::MAX_CONSECUTIVE_FAILURES {
                    s.disabled = true;
                    tracing::error!(
                        rule = %rule.id,
                        "rule {} disabled after {} failures in a row; last: {msg}",
                        rule.id,
                        s.consecutive
                    );
                }
                s.last_error = Some(msg);
            }
        }
    }

    /// An alert a script raised, with the same suppression as YAML rules: the same group
    /// within the rule's `suppress` period updates the alert instead of raising a new one.
    fn raise_script(&mut self, i: usize, rule: &Rule, r: Raised, e: &Event, out: &mut Vec<Alert>) {
        let mut key = Vec::new();
        for (k, v) in &r.group {
            super::condition::push_text(&mut key, k);
            super::condition::push_text(&mut key, v);
        }
        let max = self.max_groups;
        let (slot, g) = self.states[i].group(&key, max, out);
        g.last = e.ts;
        if let Some(newly_dirty) = g.absorb(e) {
            if newly_dirty {
                self.dirty.push((i, slot));
            }
            return;
        }
        let group_text: Vec<&str> = r.group.values().map(String::as_str).collect();
        let mut alert = new_alert(
            rule,
            e,
            &group_text.join(","),
            r.group.clone(),
            r.count.unwrap_or(1),
            e.ts,
        );
        if let Some(t) = r.title {
            alert.title = t;
        }
        if let Some(sev) = r.severity {
            alert.severity = sev;
        }
        alert.push_evidence(&e.line);
        g.raise(alert, rule.suppress, out);
    }

    fn offer(
        &mut self,
        i: usize,
        rule: &Rule,
        group_list: usize,
        e: &Event,
        pf: &mut Option<super::prefilter::Check<'_>>,
        out: &mut Vec<Alert>,
    ) {
        // For a sequence: which of its steps (at most 64) this event satisfies.
        let (step_mask, matches_main) = match &rule.kind {
            Kind::Sequence { steps, .. } => {
                let mask = steps
                    .iter()
                    .take(64)
                    .enumerate()
                    .filter(|(_, s)| s.types.contains(&e.kind) && s.matcher.matches_with(e, pf))
                    .fold(0u64, |m, (i, _)| m | 1 << i);
                (mask, false)
            }
            _ => (0, rule.matcher.matches_with(e, pf)),
        };
        if step_mask == 0 && !matches_main {
            return;
        }
        // The group: the values of group_by; an event lacking one is not counted.
        let Some((key, hash)) = self.group_keys.get(group_list, &rule.group_by, e) else {
            return;
        };
        let max = self.max_groups;
        let (slot, g) = self.states[i].group_hashed(key, hash, max, out);
        g.last = e.ts;
        // Within suppression, a matching event updates the alert instead of raising one.
        let is_trigger = match &rule.kind {
            Kind::Sequence { steps, .. } => step_mask & (1 << (steps.len() - 1).min(63)) != 0,
            _ => true,
        };
        if is_trigger {
            if let Some(newly_dirty) = g.absorb(e) {
                if newly_dirty {
                    self.dirty.push((i, slot));
                }
                return;
            }
        }
        let fired: Option<(u64, Timestamp)> = match &rule.kind {
            Kind::Single => Some((1, e.ts)),
            Kind::Threshold { count, within } => {
                let from = Timestamp::from_micros(e.ts.as_micros() - within * MICROS_PER_SEC);
                while g.times.front().is_some_and(|t| *t < from) {
                    g.times.pop_front();
                }
                g.times.push_back(e.ts);
                while g.times.len() > *count as usize {
                    g.times.pop_front();
                }
                (g.times.len() >= *count as usize)
                    .then(|| (g.times.len() as u64, *g.times.front().unwrap_or(&e.ts)))
            }
            Kind::Distinct {
                field,
                count,
                within,
            } => {
                let from = Timestamp::from_micros(e.ts.as_micros() - within * MICROS_PER_SEC);
                g.values.forget_before(from);
                self.value_buf.clear();
                if field.write_key(e, &mut self.value_buf) {
                    g.values.observe(&self.value_buf, e.ts, *count as usize);
                }
                (g.values.len() >= *count as usize)
                    .then(|| (g.values.len() as u64, g.values.oldest().unwrap_or(e.ts)))
            }
            Kind::Sequence { within, steps } => sequence_step(g, *within, steps, step_mask, e.ts),
            Kind::Script(_) => None,
        };
        // The event's line itself (shared), not a copy.
        if g.pending.len() >= PENDING_EVIDENCE {
            g.pending.pop_front();
        }
        g.pending.push_back(e.line.clone());
        if let Some((count, first_seen)) = fired {
            // The group's values in group_by order: the alert's key and its fields.
            let mut group = std::collections::BTreeMap::new();
            let mut values = Vec::with_capacity(rule.group_by.len());
            for f in &rule.group_by {
                if let Some(v) = f.get(e) {
                    values.push(v.to_string());
                    group.insert(f.name().into_owned(), v.into_owned());
                }
            }
            let group_key = values.join(",");
            let mut alert = new_alert(rule, e, &group_key, group, count, first_seen);
            for l in &g.pending {
                alert.push_evidence(l);
            }
            g.pending.clear();
            g.times.clear();
            g.values.clear();
            g.raise(alert, rule.suppress, out);
        }
        debug_assert!(g.pending.len() <= MAX_EVIDENCE);
    }
}

/// Advances a sequence; `Some((events, start))` when its last step completes.
fn sequence_step(
    g: &mut GroupState,
    within: i64,
    steps: &[super::compile::Step],
    mask: u64,
    ts: Timestamp,
) -> Option<(u64, Timestamp)> {
    if let Some(start) = g.started {
        if ts.as_micros() - start.as_micros() > within * MICROS_PER_SEC {
            g.step = 0;
            g.step_count = 0;
            g.seq_events = 0;
            g.started = None;
        }
    }
    let m = g.step;
    if mask & (1 << m.min(63)) == 0 {
        // Not the step the sequence waits for: an event for an earlier step keeps it
        // going without moving it; one for a later step is out of order.
        return None;
    }
    if g.started.is_none() {
        g.started = Some(ts);
    }
    g.step_count += 1;
    g.seq_events += 1;
    if g.step_count >= steps[m].count {
        g.step += 1;
        g.step_count = 0;
    }
    if g.step == steps.len() {
        let done = (g.seq_events, g.started.unwrap_or(ts));
        g.step = 0;
        g.step_count = 0;
        g.seq_events = 0;
        g.started = None;
        return Some(done);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compile::compile_yaml;
    use std::path::Path;

    fn engine(yaml: &str, max_groups: usize) -> Engine {
        let rule = compile_yaml(yaml, Path::new("t.yaml")).unwrap();
        Engine::with_max_groups(Arc::new(RuleSet::new(vec![Arc::new(rule)])), max_groups)
    }

    fn failure(ip: std::net::IpAddr, secs: i64) -> Event {
        let mut e = Event::new(
            Timestamp::from_secs(secs),
            EventType::FailedLogin,
            "t",
            "line",
        );
        e.src_ip = Some(ip);
        e.program = Some("sshd".into());
        e
    }

    const BRUTE: &str = "id: b\ntitle: b\nseverity: high\nmatch: { type: FAILED_LOGIN }\nthreshold: { count: 3, within: 60s, group_by: [src_ip] }\nsuppress: 10m\n";

    #[test]
    fn group_state_stays_bounded_under_a_million_addresses() {
        let mut eng = engine(BRUTE, 10_000);
        let mut out = Vec::new();
        for i in 0..1_000_000u32 {
            let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::from(0xCB00_0000 | i));
            eng.on_event(&failure(ip, i as i64 / 1000), &mut out);
        }
        assert!(out.is_empty());
        assert!(eng.tracked_groups() <= 10_000, "{}", eng.tracked_groups());
    }

    #[test]
    fn evicting_a_group_forgets_only_that_group() {
        let mut eng = engine(BRUTE, 2);
        let mut out = Vec::new();
        let a = "203.0.113.1".parse().unwrap();
        let b = "203.0.113.2".parse().unwrap();
        let c = "203.0.113.3".parse().unwrap();
        eng.on_event(&failure(a, 1), &mut out);
        eng.on_event(&failure(a, 2), &mut out);
        eng.on_event(&failure(b, 3), &mut out);
        eng.on_event(&failure(c, 4), &mut out); // evicts a, the oldest group
        eng.on_event(&failure(a, 5), &mut out);
        assert!(out.is_empty(), "a's two earlier failures were forgotten");
        eng.on_event(&failure(a, 6), &mut out);
        eng.on_event(&failure(a, 7), &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn an_evicted_or_replaced_alert_keeps_its_last_update() {
        // Two groups at most: a's suppressed alert, updated but not yet flushed, is
        // evicted by c; its final count must still come out.
        let mut eng = engine(BRUTE, 2);
        let (a, b, c) = (
            "203.0.113.1".parse().unwrap(),
            "203.0.113.2".parse().unwrap(),
            "203.0.113.3".parse().unwrap(),
        );
        let mut out = Vec::new();
        for s in [0, 1, 2, 3, 4] {
            eng.on_event(&failure(a, s), &mut out);
        }
        assert_eq!(out.len(), 1, "a fired once, two updates pending");
        eng.on_event(&failure(b, 5), &mut out);
        eng.on_event(&failure(c, 6), &mut out);
        assert_eq!(out.len(), 2, "evicting a pushed its pending update at once");
        assert_eq!(
            (out[1].key.as_str(), out[1].count),
            (out[0].key.as_str(), 5)
        );
        assert!(!out[1].is_new);
        eng.flush(&mut out);
        assert_eq!(out.len(), 2, "nothing left for the flush");

        // Suppression over and three new failures: the new alert replaces the old one,
        // whose unflushed update comes out first.
        let mut eng = engine(BRUTE, 10);
        let mut out = Vec::new();
        for s in [0, 1, 2, 3, 700, 701, 702] {
            eng.on_event(&failure(a, s), &mut out);
        }
        assert_eq!(out.len(), 3);
        assert_eq!(
            (out[1].key.as_str(), out[1].count),
            (out[0].key.as_str(), 4)
        );
        assert!(out[2].is_new && out[2].key != out[0].key);
    }

    #[test]
    fn suppression_updates_the_alert_and_expires() {
        let mut eng = engine(BRUTE, 100);
        let ip = "198.51.100.9".parse().unwrap();
        let mut out = Vec::new();
        for s in [0, 1, 2, 100, 200] {
            eng.on_event(&failure(ip, s), &mut out);
        }
        assert_eq!(out.len(), 1, "fired once; the updates wait for the flush");
        eng.flush(&mut out);
        assert_eq!(out.len(), 2, "the two updates coalesced into one");
        assert!(out[0].is_new && !out[1].is_new);
        assert_eq!(out[0].key, out[1].key);
        assert_eq!(out[1].count, 5);
        eng.flush(&mut out);
        assert_eq!(out.len(), 2, "nothing new to flush");
        out.clear();
        // After the 10 minutes, a new alert needs three new failures.
        for s in [700, 701] {
            eng.on_event(&failure(ip, s), &mut out);
        }
        assert!(out.is_empty());
        eng.on_event(&failure(ip, 702), &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].is_new);
    }

    #[test]
    fn events_in_the_past_of_the_window_do_not_count() {
        let mut eng = engine(BRUTE, 100);
        let ip = "198.51.100.9".parse().unwrap();
        let mut out = Vec::new();
        for s in [0, 61, 122, 183] {
            eng.on_event(&failure(ip, s), &mut out);
        }
        assert!(out.is_empty());
    }
}
