//! Stores for tests: an SQLite file in a temporary directory, and a database of its own on
//! a throwaway PostgreSQL cluster (`scripts/pg-cluster`, started once per test process and
//! stopped when it exits) unless no server binaries are installed, which is said loudly.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use super::{DEFAULT_LEASE, Store};

/// Where a test's store lives; open it as many times as a test needs writers.
pub enum Fixture {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Fixture {
    pub fn name(&self) -> &'static str {
        match self {
            Fixture::Sqlite(_) => "SQLite",
            Fixture::Postgres(_) => "PostgreSQL",
        }
    }

    pub async fn open(&self) -> Store {
        match self {
            Fixture::Sqlite(dir) => Store::open(dir.path()).await.unwrap(),
            Fixture::Postgres(url) => Store::open_postgres(&url.clone().into(), DEFAULT_LEASE)
                .await
                .unwrap(),
        }
    }
}

/// A fixture on each backend that can run here: SQLite always, PostgreSQL when its server
/// binaries are installed.
pub async fn fixtures() -> Vec<Fixture> {
    let mut all = vec![Fixture::Sqlite(tempfile::tempdir().unwrap())];
    if let Some(url) = postgres_database().await {
        all.push(Fixture::Postgres(url));
    }
    all
}

/// The URL of the test cluster: `CEASEFIRE_TEST_PG_URL`, or one started for this process.
/// `None` (and a warning on stderr) only when there are no server binaries.
pub fn postgres_cluster() -> Option<&'static str> {
    static CLUSTER: OnceLock<Option<String>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            if let Ok(url) = std::env::var("CEASEFIRE_TEST_PG_URL") {
                return Some(url);
            }
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let dir = root.join(format!("target/pg/unit-{}", std::process::id()));
            let out = std::process::Command::new(root.join("scripts/pg-cluster"))
                .arg("start")
                .arg(&dir)
                .arg("--watch")
                .arg(std::process::id().to_string())
                .output()
                .expect("scripts/pg-cluster runs");
            match out.status.code() {
                Some(0) => Some(String::from_utf8(out.stdout).unwrap().trim().to_owned()),
                Some(3) => {
                    eprintln!(
                        "\n*** PostgreSQL tests SKIPPED: no PostgreSQL server binaries (initdb, pg_ctl) here. \
                         Install postgresql (Debian: apt-get install postgresql) to run them. ***\n"
                    );
                    None
                }
                _ => panic!(
                    "cannot start a PostgreSQL cluster for the tests: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        })
        .as_deref()
}

/// A new, empty database on the test cluster.
pub async fn postgres_database() -> Option<String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let cluster = postgres_cluster()?;
    let name = format!(
        "unit_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(cluster).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = cluster.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}
