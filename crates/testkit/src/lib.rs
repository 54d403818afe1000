//! Test support shared by the crates' tests and the black-box tests in `tests/`:
//! a fresh database per test on either backend, and sample bookings.
//!
//! PostgreSQL tests run against a real server: `SUSPENSE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) names a database the tests may connect to
//! and create databases from. Each test gets its own database, dropped when the test ends.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sqlx::{Connection, PgConnection};
use suspense_domain::{
    AccountNumber, ApprovalPolicy, BranchCode, Channel, CustomerImpact, Direction, FixedClock,
    ItemServices, Money, Note, OpenItem, RootCauseCatalogue, SourceReference, UserId,
};

/// The server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("SUSPENSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database created for one test and dropped (with its connections) when this is dropped.
pub struct TestPostgres {
    name: String,
    url: String,
}

impl TestPostgres {
    /// Creates an empty database with a unique name.
    ///
    /// # Panics
    /// When the server cannot be reached: Postgres tests need a real server (see `.ci/run`).
    pub async fn create() -> Self {
        let admin = postgres_admin_url();
        let name = format!("suspense_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = conn.close().await;
        // Options after the database name (`?host=/var/run/postgresql`, `?sslmode=…`) apply
        // to the test database too.
        let (base, options) = admin.split_once('?').unwrap_or((admin.as_str(), ""));
        let url = match (base.rsplit_once('/'), options) {
            (Some((server, _)), "") => format!("{server}/{name}"),
            (Some((server, _)), options) => format!("{server}/{name}?{options}"),
            (None, _) => panic!("SUSPENSE_TEST_POSTGRES_URL must end in /<database>: {admin}"),
        };
        Self { name, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let admin = postgres_admin_url();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop may run inside a runtime, which cannot block on another: use a thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin).await.ok()?;
                sqlx::query(&sql).execute(&mut conn).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}

/// A temporary directory holding one SQLite file, removed when dropped.
pub struct TestSqlite {
    dir: tempfile::TempDir,
}

impl TestSqlite {
    /// # Panics
    /// When no temporary directory can be created.
    pub fn create() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}")),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("suspense.db")
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path().display())
    }
}

/// A store location for a fresh, empty database of the named backend, kept alive by the guard.
pub enum TestDatabase {
    Sqlite(TestSqlite),
    Postgres(TestPostgres),
    /// A database the test manages itself (a private cluster, say), by URL.
    External(String),
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::Sqlite(TestSqlite::create()),
            Backend::Postgres => Self::Postgres(TestPostgres::create().await),
        }
    }

    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(db) => db.url(),
            Self::Postgres(db) => db.url().to_owned(),
            Self::External(url) => url.clone(),
        }
    }

    /// Leaves the database in place when the guard goes (to look into it after a run) and
    /// returns its URL.
    pub fn keep(self) -> String {
        let url = self.url();
        match self {
            Self::Sqlite(db) => {
                let _ = db.dir.keep();
            }
            Self::Postgres(db) => std::mem::forget(db),
            Self::External(_) => {}
        }
        url
    }

    /// Runs SQL straight against the database, past the application (to simulate other
    /// writers, in-flight transactions or a damaged database). With `script`, several
    /// statements without parameters, as at a database prompt; returns rows affected.
    pub async fn execute(&self, sql: &str, script: bool) -> Result<u64, sqlx::Error> {
        use sqlx::Connection;
        macro_rules! run {
            ($conn:expr) => {{
                let mut conn = $conn;
                if script {
                    sqlx::raw_sql(sql)
                        .execute(&mut conn)
                        .await
                        .map(|r| r.rows_affected())
                } else {
                    sqlx::query(sql)
                        .execute(&mut conn)
                        .await
                        .map(|r| r.rows_affected())
                }
            }};
        }
        match self {
            Self::Sqlite(_) => run!(sqlx::SqliteConnection::connect(&self.url()).await?),
            Self::Postgres(_) | Self::External(_) => {
                run!(PgConnection::connect(&self.url()).await?)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// 2026-03-31 15:30 UTC: a fixed business time for deterministic tests.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 15, 30, 0)
        .single()
        .unwrap_or_default()
}

/// Services with a fixed clock, the default catalogue and write-off approval.
pub fn fixed_services() -> ItemServices {
    ItemServices::new(
        Arc::new(FixedClock(fixed_now())),
        RootCauseCatalogue::default(),
        ApprovalPolicy::write_offs_only(),
    )
}

/// A valid booking of `amount` CNY under reference `reference` in source system `CORE`.
///
/// # Panics
/// On an invalid `reference` or `amount`: test inputs are literals.
pub fn booking(reference: &str, amount: &str) -> OpenItem {
    let day = NaiveDate::from_ymd_opt(2026, 3, 30).unwrap_or_default();
    OpenItem {
        reference: SourceReference::parse("CORE", reference).unwrap_or_else(|e| panic!("{e}")),
        account: AccountNumber::parse("2241-01").unwrap_or_else(|e| panic!("{e}")),
        branch: BranchCode::parse("SH-001").unwrap_or_else(|e| panic!("{e}")),
        channel: Channel::OnlineBanking,
        amount: Money::parse(amount, "CNY").unwrap_or_else(|e| panic!("{e}")),
        direction: Direction::Credit,
        booked_on: day,
        value_date: day,
        description: Note::parse("incoming transfer, beneficiary unknown")
            .unwrap_or_else(|e| panic!("{e}")),
        customer_impact: CustomerImpact::default(),
    }
}

/// # Panics
/// On an invalid name: test inputs are literals.
pub fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap_or_else(|e| panic!("{e}"))
}

/// Declares `mod $name { sqlite, postgres }`: two tests, each running `$body(backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                $body($crate::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                $body($crate::Backend::Postgres).await
            }
        }
    };
}

/// A business clock the test moves by hand.
#[derive(Debug)]
pub struct TestClock(std::sync::Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn new(now: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self(std::sync::Mutex::new(now)))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = now;
        }
    }
}

impl suspense_domain::Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|g| *g).unwrap_or_default()
    }
}

/// `2026-03-31T15:30:00Z`-style literal to an instant.
///
/// # Panics
/// On a malformed literal.
pub fn instant(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .with_timezone(&Utc)
}

/// `2026-03-31` to a date.
///
/// # Panics
/// On a malformed literal.
pub fn date(iso: &str) -> NaiveDate {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d").unwrap_or_else(|e| panic!("{iso}: {e}"))
}

/// A PostgreSQL cluster of the test's own (the machine's binaries, `initdb` into a temporary
/// directory, a free port): for tests that stop the database, which must never touch the
/// shared server other tests use. Stopped and removed when dropped.
pub struct PrivateCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

impl PrivateCluster {
    /// # Panics
    /// When PostgreSQL's server binaries are not installed or the cluster does not start.
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .filter_map(Result::ok)
                    .map(|v| v.path().join("bin"))
                    .filter(|b| b.join("initdb").exists())
                    .max()
            })
            .unwrap_or_else(|| {
                panic!("PostgreSQL server binaries (initdb) are needed under /usr/lib/postgresql")
            });
        let cluster = Self::unstarted(bin);
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.start_server();
        cluster
    }

    /// A streaming replica of this cluster (`pg_basebackup -R` into a directory of its own,
    /// on a free port), started and following the primary. Stopped and removed when dropped.
    ///
    /// # Panics
    /// When the base backup or the standby's start fails.
    pub fn standby(&self) -> Self {
        let standby = Self::unstarted(self.bin.clone());
        standby.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-D",
                &standby.data(),
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        standby.start_server();
        standby
    }

    /// Stops the standby's replay of the primary's changes (it keeps answering reads).
    pub fn pause_replay(&self) {
        self.psql("SELECT pg_wal_replay_pause()");
    }

    pub fn resume_replay(&self) {
        self.psql("SELECT pg_wal_replay_resume()");
    }

    fn psql(&self, sql: &str) {
        self.run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qAtc",
                sql,
            ],
        );
    }

    /// A cluster not made yet: a temporary directory for it and a free port.
    fn unstarted(bin: PathBuf) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let cluster = Self { dir, bin, port };
        // initdb and pg_basebackup refuse to run as root: when we are root, the postgres user
        // owns the cluster.
        if is_root() {
            let owned = std::process::Command::new("chown")
                .args(["-R", "postgres", &cluster.path()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(owned, "cannot hand {} to the postgres user", cluster.path());
        }
        cluster
    }

    fn path(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn data(&self) -> String {
        format!("{}/data", self.path())
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn start_server(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.path()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &format!("{}/log", self.path()),
                "-w",
                "start",
            ],
        );
    }

    /// Stops at once, as a crash or a network cut would.
    pub fn stop_server(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.command(tool, args).output();
        match output {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!("{tool} failed: {}", String::from_utf8_lossy(&o.stderr)),
            Err(e) => panic!("cannot run {tool}: {e}"),
        }
    }

    fn command(&self, tool: &str, args: &[&str]) -> std::process::Command {
        let program = self.bin.join(tool);
        let mut command = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            std::process::Command::new(program)
        };
        command.args(args);
        command
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

/// A remediation plan for tests: reference `reference`, baseline 2026-01..2026-03, two
/// phases (2026-04..2026-06, 2026-07..2026-09), the whole bank.
///
/// # Panics
/// On an invalid `reference`: test inputs are literals.
pub fn plan_draft(reference: &str) -> suspense_domain::plan::DraftPlan {
    use suspense_domain::plan::{
        DraftPlan, Month, MonthSpan, Phase, PlanName, PlanReference, PlanScope,
    };
    let month = |m: &str| Month::parse("month", m).unwrap_or_else(|e| panic!("{e}"));
    let span =
        |a: &str, b: &str| MonthSpan::new(month(a), month(b)).unwrap_or_else(|e| panic!("{e}"));
    let name = |n: &str| PlanName::parse(n).unwrap_or_else(|e| panic!("{e}"));
    DraftPlan {
        reference: PlanReference::parse(reference).unwrap_or_else(|e| panic!("{e}")),
        name: name("suspense remediation"),
        owner: user("head-of-ops"),
        scope: PlanScope::default(),
        baseline: span("2026-01", "2026-03"),
        phases: vec![
            Phase {
                number: 1,
                name: name("months 1-3"),
                months: span("2026-04", "2026-06"),
            },
            Phase {
                number: 2,
                name: name("months 4-6"),
                months: span("2026-07", "2026-09"),
            },
        ],
    }
}

/// A target for tests: `metric` at most `value` (absolute), within `filter`, on every phase.
///
/// # Panics
/// On an invalid `id` or target: test inputs are literals.
pub fn plan_target(
    id: &str,
    metric: suspense_domain::plan::Metric,
    filter: suspense_domain::plan::MetricFilter,
    value: rust_decimal::Decimal,
) -> suspense_domain::plan::PlanAction {
    use suspense_domain::plan::{Comparison, PlanAction, PlanEntryId, Target, TargetValue};
    PlanAction::SetTarget {
        target: Target::new(
            PlanEntryId::parse(id).unwrap_or_else(|e| panic!("{e}")),
            metric,
            filter,
            Comparison::AtMost,
            TargetValue::Absolute(value),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}")),
    }
}
