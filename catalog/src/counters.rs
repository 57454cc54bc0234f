//! Counters outside transactions: object ids, sequences and the hidden row ids of tables
//! without a primary key.
//!
//! As in PostgreSQL, a value handed out is never handed out again, even if the
//! transaction that took it rolls back, and counters do not serialize the transactions
//! that use them. Values come from memory; before handing out a value the store does not
//! yet cover, the counter durably records a value some steps ahead ("may have been handed
//! out up to here"). After a crash a counter resumes after that recorded value, so it
//! skips at most the values logged ahead, and never repeats one.
//!
//! Record: key `counter_key(kind, id)`, value `[last value: i64 BE][is_called: u8]`.

use std::collections::HashMap;

use bytedata_kv::{Store, WriteBatch};
use parking_lot::Mutex;

use crate::error::{CatalogError, Result};
use crate::keys::{CounterKind, counter_key};

/// The rules of one counter.
#[derive(Clone, Debug)]
pub struct CounterSpec {
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cycle: bool,
    /// Values recorded ahead at each write to the store.
    pub log_ahead: i64,
    /// For errors: the sequence's name.
    pub name: String,
}

struct State {
    last: i64,
    is_called: bool,
    /// The last value the store covers (`None`: only `last` itself is recorded).
    logged: Option<i64>,
}

pub(crate) struct Counters {
    store: Store,
    states: Mutex<HashMap<(CounterKind, u32), State>>,
}

fn encode(value: i64, is_called: bool) -> Vec<u8> {
    let mut bytes = value.to_be_bytes().to_vec();
    bytes.push(u8::from(is_called));
    bytes
}

impl Counters {
    pub fn new(store: Store) -> Self {
        Counters {
            store,
            states: Mutex::new(HashMap::new()),
        }
    }

    fn load(&self, kind: CounterKind, id: u32, spec: &CounterSpec) -> Result<State> {
        Ok(match self.store.get(&counter_key(kind, id))? {
            Some(bytes) if bytes.len() == 9 => {
                let value = i64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
                let is_called = bytes[8] != 0;
                State {
                    last: value,
                    is_called,
                    logged: is_called.then_some(value),
                }
            }
            Some(_) => {
                return Err(CatalogError::Corrupt(format!(
                    "counter {kind:?} {id} does not parse"
                )));
            }
            None => State {
                last: spec.start,
                is_called: false,
                logged: None,
            },
        })
    }

    fn record(&self, kind: CounterKind, id: u32, value: i64, is_called: bool) -> Result<()> {
        let mut batch = WriteBatch::with_capacity(1);
        batch.put(counter_key(kind, id), encode(value, is_called));
        self.store.write(batch)?;
        Ok(())
    }

    /// The next value (`nextval`).
    pub fn next(&self, kind: CounterKind, id: u32, spec: &CounterSpec) -> Result<i64> {
        let mut states = self.states.lock();
        let state = match states.entry((kind, id)) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(self.load(kind, id, spec)?)
            }
        };
        let up = spec.increment > 0;
        let mut candidate = if state.is_called {
            state.last.checked_add(spec.increment)
        } else {
            Some(state.last)
        };
        if candidate.is_none_or(|c| c > spec.max_value || c < spec.min_value) {
            if !spec.cycle {
                let (limit, value) = if up {
                    ("maximum", spec.max_value)
                } else {
                    ("minimum", spec.min_value)
                };
                return Err(CatalogError::SequenceExhausted {
                    sequence: spec.name.clone(),
                    limit,
                    value,
                });
            }
            candidate = Some(if up { spec.min_value } else { spec.max_value });
            state.logged = None;
        }
        let value = candidate.expect("set above");
        let covered = state
            .logged
            .is_some_and(|logged| if up { value <= logged } else { value >= logged });
        if !covered {
            let ahead = spec.increment.saturating_mul(spec.log_ahead.max(1) - 1);
            let logged = value
                .saturating_add(ahead)
                .clamp(spec.min_value, spec.max_value);
            self.record(kind, id, logged, true)?;
            state.logged = Some(logged);
        }
        state.last = value;
        state.is_called = true;
        Ok(value)
    }

    /// Sets the counter (`setval`): the next value follows `value`, or is `value` itself
    /// when `is_called` is false.
    pub fn set(&self, kind: CounterKind, id: u32, value: i64, is_called: bool) -> Result<()> {
        let mut states = self.states.lock();
        self.record(kind, id, value, is_called)?;
        states.insert(
            (kind, id),
            State {
                last: value,
                is_called,
                logged: is_called.then_some(value),
            },
        );
        Ok(())
    }

    /// The last value handed out and whether one was (for `pg_sequences` and friends).
    pub fn peek(&self, kind: CounterKind, id: u32, spec: &CounterSpec) -> Result<(i64, bool)> {
        let mut states = self.states.lock();
        if let Some(state) = states.get(&(kind, id)) {
            return Ok((state.last, state.is_called));
        }
        let state = self.load(kind, id, spec)?;
        let peeked = (state.last, state.is_called);
        states.insert((kind, id), state);
        Ok(peeked)
    }

    /// Forgets a counter whose sequence or table is gone. Only after the drop committed:
    /// a rolled-back drop must find its counter where it was.
    pub fn forget(&self, kind: CounterKind, id: u32) -> Result<()> {
        self.states.lock().remove(&(kind, id));
        let mut batch = WriteBatch::with_capacity(1);
        batch.delete(counter_key(kind, id));
        self.store.write(batch)?;
        Ok(())
    }
}
