//! Live connections: how many there are (for `max_connections`) and how to reach each one
//! to cancel its statement (a CancelRequest names a process id and a secret key).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use bytedata_sql::Interrupt;
use parking_lot::Mutex;

pub struct Registry {
    max_connections: usize,
    next_pid: AtomicI32,
    active: AtomicUsize,
    cancellers: Mutex<HashMap<i32, (i32, Arc<Interrupt>)>>,
}

/// A connection's place among the live ones; dropping it frees the place.
pub struct Slot {
    registry: Arc<Registry>,
    pid: Option<i32>,
}

impl Slot {
    /// Makes the connection cancellable as `pid` with `secret`.
    pub fn register(&mut self, pid: i32, secret: i32, interrupt: Arc<Interrupt>) {
        self.registry
            .cancellers
            .lock()
            .insert(pid, (secret, interrupt));
        self.pid = Some(pid);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            self.registry.cancellers.lock().remove(&pid);
        }
        self.registry.active.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Registry {
    pub fn new(max_connections: usize) -> Arc<Self> {
        assert!(max_connections > 0);
        Arc::new(Registry {
            max_connections,
            // Process ids look like PostgreSQL's and never repeat while the server runs.
            next_pid: AtomicI32::new(10_000),
            active: AtomicUsize::new(0),
            cancellers: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more client session, or `None` when `max_connections` are in use.
    pub fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut current = self.active.load(Ordering::Acquire);
        loop {
            if current >= self.max_connections {
                return None;
            }
            match self.active.compare_exchange(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Some(Slot {
                        registry: self.clone(),
                        pid: None,
                    });
                }
                Err(now) => current = now,
            }
        }
    }

    pub fn next_pid(&self) -> i32 {
        self.next_pid.fetch_add(1, Ordering::Relaxed)
    }

    pub fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// Cancels the running statement of `pid` if `secret` matches; false otherwise. As in
    /// PostgreSQL, the requester learns nothing either way.
    pub fn cancel(&self, pid: i32, secret: i32) -> bool {
        let target = self
            .cancellers
            .lock()
            .get(&pid)
            .filter(|(key, _)| *key == secret)
            .map(|(_, interrupt)| interrupt.clone());
        match target {
            Some(interrupt) => {
                interrupt.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancels every running statement (shutdown after its grace period).
    pub fn cancel_all(&self) {
        for (_, interrupt) in self.cancellers.lock().values() {
            interrupt.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_and_frees_on_drop() {
        let registry = Registry::new(2);
        let first = registry.admit().expect("first");
        let _second = registry.admit().expect("second");
        assert!(registry.admit().is_none());
        drop(first);
        assert!(registry.admit().is_some());
    }

    #[test]
    fn cancel_needs_the_secret() {
        let registry = Registry::new(4);
        let mut slot = registry.admit().expect("slot");
        let interrupt = Arc::new(Interrupt::default());
        slot.register(7, 42, interrupt);
        assert!(!registry.cancel(7, 41));
        assert!(!registry.cancel(8, 42));
        assert!(registry.cancel(7, 42));
        drop(slot);
        assert!(!registry.cancel(7, 42), "gone with its connection");
    }
}
