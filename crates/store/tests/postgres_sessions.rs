//! PostgreSQL only: the log's sessions plan without parallel workers or JIT, so that a keyed
//! read planned generically against a table of millions of items stays a keyed read.

mod common;

use common::*;
use suspense_database::Pool;
use suspense_testkit::TestPostgres;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_session_of_the_log_runs_without_parallel_workers_or_jit() {
    let db = TestDatabase::Postgres(TestPostgres::create().await);
    let log = open_log(&db).await;
    let Pool::Postgres(pool) = log.pool() else {
        unreachable!("a PostgreSQL log")
    };
    // Several sessions at once, so that more than the first connection is asked.
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(pool.acquire().await.expect("a session"));
    }
    for session in &mut sessions {
        let (jit, workers): (String, String) = sqlx::query_as(
            "SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')",
        )
        .fetch_one(&mut **session)
        .await
        .expect("settings");
        assert_eq!(jit, "off");
        assert_eq!(workers, "0");
    }
}
