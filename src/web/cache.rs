//! Ready-made answers for the hottest listing, the newest alerts: every open dashboard
//! and script asks for the same first page again and again, and it only changes when an
//! alert does. An entry is good while no alert changed since it was computed (the
//! [`super::live::Live`] hub counts alert changes: commits and status changes) and for at
//! most [`MAX_AGE`], which bounds what a change made by another process (the CLI) can
//! leave stale.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest an entry is served.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// Entries kept at most; a full cache starts over (the hot keys come straight back).
const CAPACITY: usize = 256;

struct Entry {
    generation: u64,
    made: Instant,
    body: Arc<Vec<u8>>,
}

#[derive(Default)]
pub struct PageCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl PageCache {
    /// The answer stored under `key`, if computed at `generation` less than
    /// [`MAX_AGE`] ago.
    pub fn get(&self, key: &str, generation: u64) -> Option<Arc<Vec<u8>>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation && e.made.elapsed() < MAX_AGE)
            .map(|e| e.body.clone())
    }

    /// Stores an answer computed from data read at `generation` (read it before the
    /// query: a change during the query then makes the entry stale at once).
    pub fn put(&self, key: String, generation: u64, body: Arc<Vec<u8>>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                generation,
                made: Instant::now(),
                body,
            },
        );
    }
}

/// A cache key for a request's query: its parameters, sorted.
pub fn query_key(query: &HashMap<String, String>) -> String {
    let mut pairs: Vec<_> = query.iter().collect();
    pairs.sort();
    let mut key = String::new();
    for (k, v) in pairs {
        key.push_str(k);
        key.push('=');
        key.push_str(v);
        key.push('&');
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_serve_only_their_generation_and_age() {
        let c = PageCache::default();
        c.put("a".into(), 3, Arc::new(b"page".to_vec()));
        assert_eq!(c.get("a", 3).as_deref(), Some(&b"page".to_vec()));
        assert!(c.get("a", 4).is_none(), "an alert changed since");
        assert!(c.get("b", 3).is_none());
        let old = PageCache::default();
        old.entries.lock().unwrap().insert(
            "a".into(),
            Entry {
                generation: 3,
                made: Instant::now() - MAX_AGE,
                body: Arc::new(Vec::new()),
            },
        );
        assert!(old.get("a", 3).is_none(), "too old");
    }

    #[test]
    fn keys_ignore_parameter_order_and_the_cache_stays_bounded() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        assert_eq!(
            query_key(&q(&[("limit", "50"), ("status", "open")])),
            query_key(&q(&[("status", "open"), ("limit", "50")]))
        );
        let c = PageCache::default();
        for i in 0..CAPACITY * 2 {
            c.put(i.to_string(), 1, Arc::new(Vec::new()));
        }
        assert!(c.entries.lock().unwrap().len() <= CAPACITY);
    }
}
