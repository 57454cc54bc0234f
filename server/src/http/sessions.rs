//! Sessions for HTTP requests: a request borrows an idle session of its database and
//! role, or opens one, and gives it back when it is done — unless a transaction is still
//! open in it (a failed request), when it is dropped instead, so no request ever sees
//! another's state.
//!
//! Limits: at most `MAX_IDLE_PER_KEY` idle sessions per database and role, and at most
//! `MAX_KEYS` pairs; beyond them sessions are simply closed.

use std::collections::HashMap;
use std::sync::Arc;

use bytedata_sql::{Cluster, Session};
use parking_lot::Mutex;

use super::error::ApiError;

const MAX_IDLE_PER_KEY: usize = 16;
const MAX_KEYS: usize = 256;

#[derive(Default)]
pub struct SessionPool {
    idle: Mutex<HashMap<(String, String), Vec<Session>>>,
}

impl SessionPool {
    /// A session of `user` on `database` (3D000 when there is no such database).
    pub fn take(
        &self,
        cluster: &Arc<Cluster>,
        database: &str,
        user: &str,
    ) -> Result<Session, ApiError> {
        let key = (database.to_owned(), user.to_owned());
        if let Some(session) = self.idle.lock().get_mut(&key).and_then(Vec::pop) {
            return Ok(session);
        }
        Ok(Session::new(cluster.clone(), database, user)?)
    }

    /// Gives a session back for reuse, if it is clean.
    pub fn give_back(&self, session: Session) {
        // 'I': idle, no transaction open.
        if session.transaction_status() != b'I' {
            return;
        }
        let key = (
            session.database().descriptor.name.clone(),
            session.user().to_owned(),
        );
        let mut idle = self.idle.lock();
        if idle.len() >= MAX_KEYS && !idle.contains_key(&key) {
            return;
        }
        let sessions = idle.entry(key).or_default();
        if sessions.len() < MAX_IDLE_PER_KEY {
            sessions.push(session);
        }
    }
}
