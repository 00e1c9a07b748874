//! The throwaway PostgreSQL cluster of a test process: `CEASEFIRE_TEST_PG_URL` (which
//! `scripts/test` sets), or one `scripts/pg-cluster` starts under target/pg/ for this process
//! and stops when it exits. Shared by the unit tests (`store::testing`) and the integration
//! tests (`tests/it/helpers.rs`, which include this file), so it names nothing of the crate.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The cluster's URL; `None` only when no PostgreSQL server binaries are installed.
pub fn postgres_cluster() -> Option<&'static str> {
    static CLUSTER: OnceLock<Option<String>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            if let Ok(url) = std::env::var("CEASEFIRE_TEST_PG_URL") {
                return Some(url);
            }
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let dir = root.join(format!("target/pg/tests-{}", std::process::id()));
            let out = std::process::Command::new(root.join("scripts/pg-cluster"))
                .arg("start")
                .arg(&dir)
                .arg("--watch")
                .arg(std::process::id().to_string())
                .output()
                .expect("scripts/pg-cluster runs");
            match out.status.code() {
                Some(0) => Some(String::from_utf8(out.stdout).unwrap().trim().to_owned()),
                Some(3) => None,
                _ => panic!(
                    "cannot start a PostgreSQL cluster for the tests: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        })
        .as_deref()
}

/// A new, empty database on the cluster for `test`, or `None`, said loudly on stderr, when
/// this machine has no PostgreSQL server binaries.
pub async fn postgres_database(test: &str) -> Option<String> {
    use sqlx::Connection;
    static N: AtomicU32 = AtomicU32::new(0);
    let Some(cluster) = postgres_cluster() else {
        eprintln!(
            "\n*** {test}: PostgreSQL SKIPPED: no PostgreSQL server binaries (initdb, pg_ctl) \
             here. Install postgresql (Debian: apt-get install postgresql) to run it. ***\n"
        );
        return None;
    };
    let name = format!(
        "t_{}_{}",
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
