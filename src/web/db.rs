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
    available: Semaphore,
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
                available: Semaphore::new(n),
            }),
        })
    }

    /// Runs `f` with a connection of the pool on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let _permit = self
            .inner
            .available
            .acquire()
            .await
            .map_err(ApiError::internal)?;
        let conn = self
            .inner
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .ok_or_else(|| ApiError::internal("connection pool empty"))?;
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let r = f(&conn);
            (conn, r)
        })
        .await
        .map_err(ApiError::internal)?;
        self.inner
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(conn);
        result
    }
}
