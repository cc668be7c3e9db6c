//! The distinct values one group saw within a `distinct` rule's window, each with the time
//! it was last seen, at most the rule's count of them.
//!
//! A rule's count is small (5 user names, 10 ports), so the values live in a vector and are
//! found by comparing bytes: cheaper than hashing each event's value. Past
//! [`LINEAR_MAX`] values a keyed hash set takes over, so a rule asking for thousands of
//! distinct values stays linear in events, not quadratic.

use std::collections::HashMap;

use crate::base::small_bytes::SmallBytes;
use crate::base::timestamp::Timestamp;

/// Counts up to this many values are kept in a vector.
const LINEAR_MAX: usize = 32;

/// A value in the vector: inline up to this many bytes (an IPv6 address key is 17).
type Value = SmallBytes<22>;

#[derive(Debug)]
pub enum DistinctValues {
    Few(Vec<(Value, Timestamp)>),
    Many(HashMap<Box<[u8]>, Timestamp>),
}

impl Default for DistinctValues {
    fn default() -> Self {
        DistinctValues::Few(Vec::new())
    }
}

impl DistinctValues {
    pub fn len(&self) -> usize {
        match self {
            DistinctValues::Few(v) => v.len(),
            DistinctValues::Many(m) => m.len(),
        }
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets values last seen before `from`.
    pub fn forget_before(&mut self, from: Timestamp) {
        match self {
            DistinctValues::Few(v) => v.retain(|(_, t)| *t >= from),
            DistinctValues::Many(m) => m.retain(|_, t| *t >= from),
        }
    }

    /// Records `value` seen at `ts`: a known value's time moves on; a new one is kept
    /// while fewer than `cap` are.
    pub fn observe(&mut self, value: &[u8], ts: Timestamp, cap: usize) {
        if let DistinctValues::Few(v) = self {
            if cap > LINEAR_MAX {
                let m = std::mem::take(v)
                    .into_iter()
                    .map(|(k, t)| (Box::from(k.as_bytes()), t))
                    .collect();
                *self = DistinctValues::Many(m);
            }
        }
        match self {
            DistinctValues::Few(v) => {
                let held = v.len();
                match v.iter_mut().find(|(k, _)| k.as_bytes() == value) {
                    Some((_, t)) => *t = ts,
                    None if held < cap => v.push((Value::new(value), ts)),
                    None => {}
                }
            }
            DistinctValues::Many(m) => {
                let held = m.len();
                match m.get_mut(value) {
                    Some(t) => *t = ts,
                    None if held < cap => {
                        m.insert(value.into(), ts);
                    }
                    None => {}
                }
            }
        }
    }

    /// When the oldest value still held was last seen.
    pub fn oldest(&self) -> Option<Timestamp> {
        match self {
            DistinctValues::Few(v) => v.iter().map(|(_, t)| *t).min(),
            DistinctValues::Many(m) => m.values().min().copied(),
        }
    }

    pub fn clear(&mut self) {
        match self {
            DistinctValues::Few(v) => v.clear(),
            DistinctValues::Many(m) => m.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs(s)
    }

    #[test]
    fn few_and_many_count_alike() {
        for cap in [3, 5, LINEAR_MAX + 10] {
            let mut d = DistinctValues::default();
            d.observe(b"a", t(1), cap);
            d.observe(b"b", t(2), cap);
            d.observe(b"a", t(3), cap);
            assert_eq!(d.len(), 2, "cap {cap}");
            assert_eq!(d.oldest(), Some(t(2)), "a was seen again at 3");
            d.forget_before(t(3));
            assert_eq!(d.len(), 1);
            for (i, v) in [b"c", b"d", b"e", b"f"].iter().enumerate() {
                d.observe(*v, t(4 + i as i64), cap);
            }
            assert_eq!(d.len(), cap.min(5), "at most cap values");
            d.clear();
            assert!(d.is_empty());
        }
    }
}
