//! What sshd told us about each connection (pid) so far: its address, the user names
//! tried, attempts not yet counted, a failure waiting for its address. At most
//! [`MAX_PIDS`] connections, the oldest evicted first, forgotten when a connection closes.

use std::collections::VecDeque;

use hashbrown::HashTable;

use super::{MAX_PIDS, MAX_USERS, MAX_USER_LEN};
use crate::base::small_bytes::SmallBytes;
use crate::parse::common::Remote;

/// What one connection (sshd pid) told us so far.
#[derive(Default)]
pub(super) struct PidState {
    pub(super) remote: Option<Remote>,
    pub(super) port: Option<u16>,
    /// Distinct user names tried (failures, PAM helpers), at most [`MAX_USERS`].
    pub(super) users: Users,
    /// Attempts seen that are not failures on their own (`Failed publickey` for a valid
    /// user, PAM auth-failure echoes) and not yet counted in an emitted failure.
    pub(super) pending: u32,
    /// A failure logged before the connection's address was known.
    pub(super) deferred: Option<Deferred>,
    /// `maximum authentication attempts exceeded` already counted for this connection.
    pub(super) max_exceeded: bool,
    /// An `Accepted` login happened on this connection.
    pub(super) authenticated: bool,
}

pub(super) struct Deferred {
    pub(super) user: Option<Box<str>>,
    pub(super) reason: &'static str,
    pub(super) attempts: u32,
}

/// A pid's hash: pids are small integers the kernel hands out, not attacker-chosen
/// strings, so a multiply spreads them well enough.
pub(super) fn pid_hash(pid: u32) -> u64 {
    u64::from(pid).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// One connection's place in the [`PidTable`].
#[derive(Default)]
pub(super) struct PidSlot {
    pub(super) pid: u32,
    /// Bumped each time the slot is given to a connection, so that an `order` entry of an
    /// earlier occupant is recognised as stale.
    pub(super) gen: u32,
    pub(super) live: bool,
    pub(super) state: PidState,
}

/// Bounded pid → state table, evicting the oldest connection first.
///
/// The states live in a vector of slots and the hash table holds only slot numbers (four
/// bytes each, so probing it stays in cache even when full); a slot freed by a closed or
/// evicted connection is reused in place. Under a brute force the table is full and
/// every new connection evicts one: with the states inside the hash table that cost a
/// cache miss on the evicted entry and another on wherever the new one landed.
#[derive(Default)]
pub(super) struct PidTable {
    pub(super) table: HashTable<u32>,
    pub(super) slots: Vec<PidSlot>,
    /// Slots of closed connections, reused first.
    pub(super) free: Vec<u32>,
    /// (slot, generation) in creation order: the front is evicted first. Entries whose
    /// slot has since been freed or given to another connection are skipped.
    pub(super) order: VecDeque<(u32, u32)>,
}

impl PidTable {
    pub(super) fn find(&self, pid: u32) -> Option<u32> {
        let slots = &self.slots;
        self.table
            .find(pid_hash(pid), |&i| slots[i as usize].pid == pid)
            .copied()
    }

    pub(super) fn get(&self, pid: Option<u32>) -> Option<&PidState> {
        let i = self.find(pid?)?;
        Some(&self.slots[i as usize].state)
    }

    pub(super) fn entry(&mut self, pid: u32) -> &mut PidState {
        if let Some(i) = self.find(pid) {
            return &mut self.slots[i as usize].state;
        }
        let i = self.take_slot();
        let slot = &mut self.slots[i as usize];
        slot.pid = pid;
        slot.gen = slot.gen.wrapping_add(1);
        slot.live = true;
        let gen = slot.gen;
        let slots = &self.slots;
        self.table
            .insert_unique(pid_hash(pid), i, |&j| pid_hash(slots[j as usize].pid));
        self.order.push_back((i, gen));
        if self.order.len() > 2 * MAX_PIDS + 64 {
            let slots = &self.slots;
            self.order
                .retain(|&(i, g)| slots[i as usize].live && slots[i as usize].gen == g);
        }
        &mut self.slots[i as usize].state
    }

    /// A slot for a new connection: a freed one, a new one while there are fewer than
    /// [`MAX_PIDS`], else the oldest connection's.
    pub(super) fn take_slot(&mut self) -> u32 {
        if let Some(i) = self.free.pop() {
            return i;
        }
        if self.slots.len() < MAX_PIDS {
            if self.slots.len() == self.slots.capacity() {
                // Doubling, but never past the bound: a full table holds exactly
                // MAX_PIDS slots rather than the next power of two (1.7 MB, not 2.8).
                let want = (2 * self.slots.len()).clamp(64, MAX_PIDS);
                self.slots.reserve_exact(want - self.slots.len());
            }
            self.slots.push(PidSlot::default());
            return (self.slots.len() - 1) as u32;
        }
        while let Some((i, g)) = self.order.pop_front() {
            let slot = &self.slots[i as usize];
            if slot.live && slot.gen == g {
                self.unlink(i);
                return i;
            }
        }
        // Every live slot has its entry in `order`, so a full table always finds one
        // above; should that ever fail, grow rather than lose the connection.
        debug_assert!(false, "a full pid table with no live entry in its order");
        self.slots.push(PidSlot::default());
        (self.slots.len() - 1) as u32
    }

    /// Takes slot `i`'s connection out of the table and drops its state.
    pub(super) fn unlink(&mut self, i: u32) {
        let pid = self.slots[i as usize].pid;
        if let Ok(entry) = self.table.find_entry(pid_hash(pid), |&j| j == i) {
            entry.remove();
        }
        let slot = &mut self.slots[i as usize];
        slot.live = false;
        slot.state = PidState::default();
    }

    pub(super) fn remove(&mut self, pid: Option<u32>) {
        if let Some(i) = pid.and_then(|p| self.find(p)) {
            self.unlink(i);
            self.free.push(i);
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

pub(super) fn clip(u: &str) -> &str {
    if u.len() <= MAX_USER_LEN {
        return u;
    }
    let mut end = MAX_USER_LEN;
    while !u.is_char_boundary(end) {
        end -= 1;
    }
    &u[..end]
}

/// A remembered user name: inline when short (nearly all are), so that remembering one
/// costs no allocation.
#[derive(Clone)]
pub(super) struct Name(SmallBytes<30>);

impl Name {
    pub(super) fn new(s: &str) -> Name {
        Name(SmallBytes::new(s.as_bytes()))
    }
    pub(super) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
    pub(super) fn as_str(&self) -> &str {
        // Always valid: built from a whole `&str`.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// The distinct user names of one connection, at most [`MAX_USERS`]; the first is kept
/// inline.
#[derive(Default)]
pub(super) struct Users {
    pub(super) first: Option<Name>,
    pub(super) rest: Vec<Name>,
}

impl Users {
    pub(super) fn iter(&self) -> impl Iterator<Item = &Name> {
        self.first.iter().chain(self.rest.iter())
    }
    pub(super) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }
    pub(super) fn clear(&mut self) {
        self.first = None;
        self.rest.clear();
    }
}

impl PidState {
    pub(super) fn add_user(&mut self, user: &str) {
        let user = clip(user);
        if user.is_empty() || self.users.iter().any(|u| u.as_bytes() == user.as_bytes()) {
            return;
        }
        if self.users.first.is_none() {
            self.users.first = Some(Name::new(user));
        } else if self.users.len() < MAX_USERS {
            self.users.rest.push(Name::new(user));
        }
    }
    pub(super) fn users_joined(&self) -> String {
        let mut s = String::new();
        for (i, u) in self.users.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(u.as_str());
        }
        s
    }
}

// ---------------------------------------------------------------------------------------
// Small text helpers
