//! Dashboard accounts, login sessions and API tokens in SQLite. Secrets are stored only as
//! digests (see [`crate::auth`]).

use rusqlite::{params, Connection, OptionalExtension};

use crate::auth::Role;
use crate::base::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

fn user_from(id: i64, name: String, role: String) -> User {
    User {
        id,
        name,
        // An unknown role in the table (a later version's) reads as the lesser one.
        role: role.parse().unwrap_or(Role::Viewer),
    }
}

/// Adds a user, or replaces the password and role of an existing one. `true` if new.
pub fn upsert_user(
    conn: &Connection,
    name: &str,
    role: Role,
    hash: &str,
) -> rusqlite::Result<bool> {
    let existed = find_user(conn, name)?.is_some();
    conn.execute(
        "INSERT INTO users (name, role, hash, created) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET role = excluded.role, hash = excluded.hash",
        params![name, role.as_str(), hash, Timestamp::now().as_micros()],
    )?;
    if existed {
        // A new password ends the old sessions.
        conn.execute(
            "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
            [name],
        )?;
    }
    Ok(!existed)
}

/// The user and their password hash.
pub fn find_user(conn: &Connection, name: &str) -> rusqlite::Result<Option<(User, String)>> {
    conn.query_row(
        "SELECT id, name, role, hash FROM users WHERE name = ?1",
        [name],
        |r| Ok((user_from(r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?)),
    )
    .optional()
}

pub fn list_users(conn: &Connection) -> rusqlite::Result<Vec<User>> {
    let mut stmt = conn.prepare("SELECT id, name, role FROM users ORDER BY name")?;
    let rows = stmt.query_map([], |r| Ok(user_from(r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// Deletes a user (their sessions and tokens go with them). `false` if there was none.
pub fn delete_user(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM users WHERE name = ?1", [name])? == 1)
}

/// A logged-in session as the server keeps it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
}

pub fn create_session(
    conn: &Connection,
    digest: &[u8],
    user_id: i64,
    csrf: &str,
    address: &str,
    expires: Timestamp,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO sessions (hash, user_id, csrf, address, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![digest, user_id, csrf, address, Timestamp::now().as_micros(), expires.as_micros()],
    )?;
    Ok(())
}

/// The addresses admins are signed in from now (unexpired sessions): never banned, so an
/// admin fixing things cannot lock themselves out of the dashboard.
pub fn admin_addresses(
    conn: &Connection,
    now: Timestamp,
) -> rusqlite::Result<Vec<std::net::IpAddr>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT s.address FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE u.role = 'admin' AND s.expires > ?1 AND s.address IS NOT NULL",
    )?;
    let rows = stmt.query_map([now.as_micros()], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for a in rows {
        if let Ok(ip) = a?.parse::<std::net::IpAddr>() {
            out.push(crate::model::ip::canonical(ip));
        }
    }
    Ok(out)
}

/// The unexpired session stored under `digest`.
pub fn find_session(conn: &Connection, digest: &[u8]) -> rusqlite::Result<Option<Session>> {
    conn.query_row(
        "SELECT u.id, u.name, u.role, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.hash = ?1 AND s.expires > ?2",
        params![digest, Timestamp::now().as_micros()],
        |r| {
            Ok(Session {
                user: user_from(r.get(0)?, r.get(1)?, r.get(2)?),
                csrf: r.get(3)?,
            })
        },
    )
    .optional()
}

pub fn delete_session(conn: &Connection, digest: &[u8]) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE hash = ?1", [digest])?;
    Ok(())
}

pub fn delete_expired_sessions(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM sessions WHERE expires <= ?1",
        [Timestamp::now().as_micros()],
    )
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub user: String,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
    pub revoked: Option<Timestamp>,
}

pub fn create_token(
    conn: &Connection,
    name: &str,
    user_id: i64,
    digest: &[u8],
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO tokens (name, user_id, hash, created) VALUES (?1, ?2, ?3, ?4)",
        params![name, user_id, digest, Timestamp::now().as_micros()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The owner of an unrevoked token, noting its use. `last_used` is only rewritten when a
/// minute old: a script polling the API must not turn every read into a write that
/// contends with the store writer.
pub fn use_token(conn: &Connection, digest: &[u8]) -> rusqlite::Result<Option<User>> {
    let found = conn
        .query_row(
            "SELECT u.id, u.name, u.role, t.last_used FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE t.hash = ?1 AND t.revoked IS NULL",
            [digest],
            |r| {
                Ok((
                    user_from(r.get(0)?, r.get(1)?, r.get(2)?),
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((user, last_used)) = found else {
        return Ok(None);
    };
    let now = Timestamp::now().as_micros();
    if last_used.is_none_or(|t| now - t >= TOKEN_USE_GRANULARITY_MICROS) {
        conn.execute(
            "UPDATE tokens SET last_used = ?1 WHERE hash = ?2",
            params![now, digest],
        )?;
    }
    Ok(Some(user))
}

/// How stale a token's `last_used` may get: one minute.
const TOKEN_USE_GRANULARITY_MICROS: i64 = 60_000_000;

pub fn list_tokens(conn: &Connection) -> rusqlite::Result<Vec<TokenInfo>> {
    let mut stmt = conn.prepare(
        "SELECT t.id, t.name, u.name, t.created, t.last_used, t.revoked FROM tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(TokenInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            user: r.get(2)?,
            created: Timestamp::from_micros(r.get(3)?),
            last_used: r.get::<_, Option<i64>>(4)?.map(Timestamp::from_micros),
            revoked: r.get::<_, Option<i64>>(5)?.map(Timestamp::from_micros),
        })
    })?;
    rows.collect()
}

/// Revokes a token by id. `false` if there is no such live token.
pub fn revoke_token(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE tokens SET revoked = ?1 WHERE id = ?2 AND revoked IS NULL",
        params![Timestamp::now().as_micros(), id],
    )? == 1)
}
