//! A rule's groups: one state per group key, at most `max` of them, the oldest evicted
//! first.
//!
//! Every event a rule counts looks its group up here, so this is the engine's hottest
//! table. Keys are compact bytes ([`super::condition::Field::write_key`]: an address is
//! its 4 or 16 bytes, never formatted). Each key is hashed once per lookup and stored
//! once, in its slot (inline when short); the table holds only slot numbers. Slots live
//! in one vector and an evicted group's slot is reused by the group that evicted it, so a
//! full table allocates nothing (a key longer than 30 bytes excepted).
//!
//! The keys are attacker-controlled (addresses, user names), so they are hashed with
//! std's keyed SipHash under a random key drawn once per process: nobody can precompute
//! colliding keys. One key for every table lets the engine hash an event's key once for
//! all the rules that group by the same fields ([`key_hash`]).

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;

use hashbrown::HashTable;

use crate::base::small_bytes::SmallBytes;

struct Slot<T> {
    /// Inline for the usual keys (an address is 5 or 17 bytes, a user name a few more),
    /// so that comparing a candidate reads the slot itself, not another allocation.
    key: SmallBytes<30>,
    state: T,
}

/// Group states by key, bounded, evicting the least recently created group first.
pub struct Groups<T> {
    table: HashTable<u32>,
    slots: Vec<Slot<T>>,
    /// Slot numbers in creation order: the front is evicted first.
    order: VecDeque<u32>,
}

impl<T> Default for Groups<T> {
    fn default() -> Self {
        Groups {
            table: HashTable::new(),
            slots: Vec::new(),
            order: VecDeque::new(),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Groups<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Groups")
            .field("len", &self.table.len())
            .finish_non_exhaustive()
    }
}

impl<T: Default> Groups<T> {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// The slot and state of `key`'s group, created if new. When the table is full the
    /// oldest group makes room: `evict` gets its state first (to keep an unflushed alert).
    #[cfg(test)]
    pub fn get_or_insert(
        &mut self,
        key: &[u8],
        max: usize,
        evict: impl FnOnce(T),
    ) -> (u32, &mut T) {
        self.get_or_insert_hashed(key, key_hash(key), max, evict)
    }

    /// [`Groups::get_or_insert`] with the key's [`key_hash`] already worked out.
    pub fn get_or_insert_hashed(
        &mut self,
        key: &[u8],
        hash: u64,
        max: usize,
        evict: impl FnOnce(T),
    ) -> (u32, &mut T) {
        debug_assert_eq!(hash, key_hash(key));
        let slots = &self.slots;
        if let Some(&i) = self
            .table
            .find(hash, |&i| slots[i as usize].key.as_bytes() == key)
        {
            return (i, &mut self.slots[i as usize].state);
        }
        let i = if self.table.len() >= max.max(1) {
            self.evict_oldest(evict)
        } else {
            None
        };
        let slot = Slot {
            key: SmallBytes::new(key),
            state: T::default(),
        };
        let i = match i {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.table
            .insert_unique(hash, i, |&j| key_hash(slots[j as usize].key.as_bytes()));
        self.order.push_back(i);
        (i, &mut self.slots[i as usize].state)
    }

    /// Removes the oldest group from the table, hands its state to `evict`, and returns
    /// its slot for reuse.
    fn evict_oldest(&mut self, evict: impl FnOnce(T)) -> Option<u32> {
        let i = self.order.pop_front()?;
        let slot = &mut self.slots[i as usize];
        let hash = key_hash(slot.key.as_bytes());
        if let Ok(entry) = self.table.find_entry(hash, |&j| j == i) {
            entry.remove();
        }
        evict(std::mem::take(&mut slot.state));
        Some(i)
    }

    /// The state in slot `i`, if the slot is in use. A slot may since hold another group
    /// (the first was evicted): callers that kept a slot number check what they find.
    pub fn slot_mut(&mut self, i: u32) -> Option<&mut T> {
        self.slots.get_mut(i as usize).map(|s| &mut s.state)
    }
}

/// The process's secret hash key for group keys.
static HASHER: LazyLock<RandomState> = LazyLock::new(RandomState::new);

/// A group key's hash, the same in every table. The bytes go through one `write`:
/// `hash_one` on a slice also hashes its length, a second pass through SipHash that a
/// table of byte strings does not need.
pub fn key_hash(key: &[u8]) -> u64 {
    let mut h = HASHER.build_hasher();
    h.write(key);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_creates_and_evicts_the_oldest() {
        let mut g: Groups<u32> = Groups::default();
        let mut evicted = Vec::new();
        *g.get_or_insert(b"a", 2, |s| evicted.push(s)).1 = 1;
        *g.get_or_insert(b"b", 2, |s| evicted.push(s)).1 = 2;
        assert_eq!(*g.get_or_insert(b"a", 2, |s| evicted.push(s)).1, 1);
        assert!(evicted.is_empty());
        let (slot, c) = g.get_or_insert(b"c", 2, |s| evicted.push(s));
        assert_eq!(*c, 0, "a new group starts empty");
        assert_eq!(evicted, [1], "a, the oldest, made room");
        assert_eq!(slot, 0, "c took a's slot");
        assert_eq!(g.len(), 2);
        assert_eq!(*g.get_or_insert(b"b", 2, |s| evicted.push(s)).1, 2);
        assert_eq!(*g.get_or_insert(b"a", 2, |s| evicted.push(s)).1, 0);
        assert_eq!(evicted, [1, 2], "a came back and evicted b");
    }

    #[test]
    fn stays_bounded_under_many_keys() {
        let mut g: Groups<()> = Groups::default();
        for i in 0..100_000u32 {
            g.get_or_insert(&i.to_le_bytes(), 1000, |_| {});
        }
        assert_eq!(g.len(), 1000);
        assert_eq!(g.slots.len(), 1000);
        assert_eq!(g.order.len(), 1000);
    }
}
