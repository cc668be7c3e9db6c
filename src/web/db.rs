//! A small pool of SQLite connections for request handlers. Queries run on tokio's
//! blocking threads so a slow one never stalls the server; WAL lets them read while the
//! store writer commits.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::Semaphore;

use super::http::ApiError;

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    conns: Mutex<Vec<Connection>>,
    available: Arc<Semaphore>,
}

/// A connection taken from the pool, put back when dropped: after the query, after a
/// panic in it, and when the request that wanted it went away mid-query (its future
/// dropped while the blocking thread still runs). The permit goes last, so a waiter
/// never finds the pool empty.
struct Lease {
    conn: Option<Connection>,
    inner: Arc<Inner>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.inner
                .conns
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(c);
        }
    }
}

impl Db {
    /// `size` connections to `data_dir`'s store (which must exist: the writer creates it).
    pub fn open(data_dir: &Path, size: usize) -> Result<Db, crate::store::StoreError> {
        let mut conns = Vec::with_capacity(size);
        for _ in 0..size.max(1) {
            let c = crate::store::open(data_dir)?;
            c.busy_timeout(Duration::from_secs(5))
                .map_err(|e| crate::store::StoreError::Sql {
                    path: crate::store::db_path(data_dir),
                    source: e,
                })?;
            conns.push(c);
        }
        let n = conns.len();
        Ok(Db {
            inner: Arc::new(Inner {
                conns: Mutex::new(conns),
                available: Arc::new(Semaphore::new(n)),
            }),
        })
    }

    /// Runs `f` with a connection of the pool on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let permit = self
            .inner
            .available
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        let conn = self
            .inner
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .ok_or_else(|| ApiError::internal("connection pool empty"))?;
        let lease = Lease {
            conn: Some(conn),
            inner: self.inner.clone(),
            _permit: permit,
        };
        tokio::task::spawn_blocking(move || {
            let conn = lease.conn.as_ref().expect("a leased connection");
            f(conn)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Connections in the pool now (not leased).
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.inner
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_or_failed_query_gives_its_connection_back() {
        let dir = tempfile::tempdir().unwrap();
        drop(crate::store::open(dir.path()).unwrap());
        let db = Db::open(dir.path(), 2).unwrap();
        // A request that goes away while its query still runs (a client disconnecting).
        for _ in 0..4 {
            let slow = db.run(|c| {
                std::thread::sleep(Duration::from_millis(200));
                Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)
            });
            assert!(tokio::time::timeout(Duration::from_millis(20), slow)
                .await
                .is_err());
        }
        // A query that panics.
        let panicked = db.run(|_| -> Result<(), ApiError> { panic!("boom") }).await;
        assert!(panicked.is_err());
        // Every connection comes back and serves again.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(db.idle(), 2);
        for _ in 0..5 {
            let v = db
                .run(|c| Ok(c.query_row("SELECT 2", [], |r| r.get::<_, i64>(0))?))
                .await
                .unwrap();
            assert_eq!(v, 2);
        }
    }
}
