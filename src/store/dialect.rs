//! What differs between the two stores, in one place: how to reach the database, how a
//! writing transaction takes the write lock, the migrations, and the few statements one of
//! them lacks. Everything else is SQL both read (`$n` parameters, `ON CONFLICT`,
//! `RETURNING`, `UPDATE ... FROM`, BIGINT times, 0/1 flags), run through sqlx's `Any`
//! driver.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// Which database holds the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A file in `daemon.state_dir`, for one daemon (the default).
    Sqlite,
    /// A server that several daemons share (`store.url`).
    Postgres,
}

/// The key of the advisory lock every writing transaction takes on PostgreSQL: what SQLite's
/// `BEGIN IMMEDIATE` gives, one writer at a time across every daemon. ("cw" in ASCII.)
const WRITE_LOCK: i64 = 0x6377;

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    /// Whether several daemons may share the store, so feeds are leased and claims expire.
    pub fn shared(self) -> bool {
        self == Backend::Postgres
    }

    /// The statements that open a writing transaction: the write lock is taken at once, so
    /// two writers queue instead of one failing when it upgrades from read (SQLite), and
    /// placement of stories is serialised across daemons (PostgreSQL).
    pub fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// What runs first in a writing transaction, after [`begin_write`](Self::begin_write).
    pub fn write_lock(self) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some(format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})")),
        }
    }

    /// Appended to a `SELECT` that claims rows: other daemons skip what one has locked.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    pub async fn migrate(self, pool: &AnyPool) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(pool).await,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(pool).await,
        }
    }
}

/// The `Any` URL of an SQLite file, created if missing.
fn sqlite_url(path: &Path) -> String {
    let mut url = String::from("sqlite://");
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'_' | b'-' => {
                url.push(*b as char)
            }
            _ => url.push_str(&format!("%{b:02X}")),
        }
    }
    url.push_str("?mode=rwc");
    url
}

/// How a pool's connections are set up.
#[derive(Debug, Clone, Copy)]
pub struct PoolShape {
    pub max: u32,
    pub min: u32,
    /// SQLite's page cache per connection, in KiB.
    pub cache_kib: u32,
    pub read_only: bool,
}

/// A pool on an SQLite file: WAL, a busy timeout, foreign keys, temporaries in memory.
pub async fn sqlite_pool(path: &Path, shape: PoolShape) -> Result<AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let url = if shape.read_only {
        sqlite_url(path).replace("mode=rwc", "mode=ro")
    } else {
        sqlite_url(path)
    };
    let options: AnyConnectOptions = url.parse()?;
    let cache = shape.cache_kib;
    let read_only = shape.read_only;
    AnyPoolOptions::new()
        .max_connections(shape.max)
        .min_connections(shape.min)
        // No ping before each use: a local file does not drop connections.
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                let mut pragmas = vec![
                    "PRAGMA busy_timeout = 10000".to_owned(),
                    "PRAGMA foreign_keys = ON".to_owned(),
                    "PRAGMA temp_store = MEMORY".to_owned(),
                    format!("PRAGMA cache_size = -{cache}"),
                ];
                if !read_only {
                    pragmas.push("PRAGMA journal_mode = WAL".to_owned());
                    pragmas.push("PRAGMA synchronous = NORMAL".to_owned());
                }
                for p in pragmas {
                    conn.execute(sqlx::AssertSqlSafe(p)).await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

/// A pool on a PostgreSQL server. Connections are checked before use: a server restarts,
/// and a network drops idle connections.
pub async fn postgres_pool(url: &str, max: u32) -> Result<AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let options: AnyConnectOptions = url.parse()?;
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
}

/// Connects once and asks the server's version: `check-config`'s test of `store.url`.
pub async fn postgres_version(url: &str) -> Result<String, String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let attempt = async {
        let mut conn = sqlx::AnyConnection::connect(url).await?;
        let v: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        Ok::<_, sqlx::Error>(v)
    };
    match tokio::time::timeout(Duration::from_secs(10), attempt).await {
        Err(_) => Err("no answer within 10 s".into()),
        Ok(Err(e)) => Err(crate::domain::redact::text(&crate::net::error_chain(&e))),
        Ok(Ok(v)) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sqlite_path_is_escaped_in_its_url() {
        assert_eq!(
            sqlite_url(Path::new("/var/lib/cw/state.db")),
            "sqlite:///var/lib/cw/state.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url(Path::new("/tmp/a b?#/x.db")),
            "sqlite:///tmp/a%20b%3F%23/x.db?mode=rwc"
        );
    }
}
