//! Stores for tests: an SQLite file in a temporary directory, and a database of its own on
//! a throwaway PostgreSQL cluster (`scripts/pg-cluster`, started once per test process and
//! stopped when it exits) unless no server binaries are installed, which is said loudly.

#[path = "pg_cluster.rs"]
mod pg_cluster;

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
    if let Some(url) = pg_cluster::postgres_database("the store's tests").await {
        all.push(Fixture::Postgres(url));
    }
    all
}
