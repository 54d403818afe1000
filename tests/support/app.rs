//! `spawn_app()`: the real `suspense` binary serving on a random port, on a fresh database.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};
use suspense_testkit::{Backend, TestDatabase};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Users of every test app: name, roles, token.
pub const USERS: &[(&str, &[&str], &str)] = &[
    ("olivia", &["operator"], "token-operator-olivia"),
    ("oscar", &["operator"], "token-operator-oscar"),
    ("sam", &["supervisor"], "token-supervisor-sam"),
    ("max", &["operator", "supervisor"], "token-both-max"),
    ("rita", &["reporter"], "token-reporter-rita"),
    ("ada", &["auditor"], "token-auditor-ada"),
];

/// Users who work at a branch: name, roles, token, home branch. They see and act on that
/// branch and the branches under it only.
pub const BRANCH_USERS: &[(&str, &[&str], &str, &str)] = &[
    (
        "shen",
        &["operator", "supervisor", "reporter", "auditor"],
        "token-shanghai-shen",
        "SH-001",
    ),
    (
        "bei",
        &["operator", "supervisor", "reporter", "auditor"],
        "token-beijing-bei",
        "BJ-001",
    ),
];

pub fn token(user: &str) -> &'static str {
    USERS
        .iter()
        .find(|(name, _, _)| *name == user)
        .map(|(_, _, t)| *t)
        .or_else(|| {
            BRANCH_USERS
                .iter()
                .find(|(name, ..)| *name == user)
                .map(|(_, _, t, _)| *t)
        })
        .unwrap_or("no-such-user")
}

/// The `suspense` binary, built once per test run.
pub fn binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let status = std::process::Command::new(cargo)
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "suspense-service",
                    "--bin",
                    "suspense",
                ])
                .status()
                .unwrap_or_else(|e| panic!("cannot run cargo build: {e}"));
            assert!(status.success(), "building the suspense binary failed");
            let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
            // target/<profile>/deps/<test> → target/<profile>/suspense
            exe.parent()
                .and_then(|deps| deps.parent())
                .map(|dir| dir.join("suspense"))
                .unwrap_or_else(|| panic!("unexpected test path {}", exe.display()))
        })
        .clone()
}

/// A running service and what it needs to stay alive.
pub struct TestApp {
    pub address: String,
    pub db: TestDatabase,
    pub config: PathBuf,
    /// Variables the service is started with, besides the database's and the configuration's.
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
    child: Child,
    client: reqwest::Client,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn request(&self, method: Method, path: &str, user: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token(user))
    }

    pub async fn post(&self, path: &str, user: &str, body: Value) -> Response {
        self.request(Method::POST, path, user)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    pub async fn get(&self, path: &str, user: &str) -> Response {
        self.request(Method::GET, path, user)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Opens an item as olivia and returns its id.
    pub async fn open_item(&self, reference: &str, amount: &str) -> String {
        let response = self
            .post("/v1/items", "olivia", booking(reference, amount))
            .await;
        assert_eq!(response.status(), 201, "opening {reference}");
        let body: Value = response.json().await.unwrap_or_default();
        body["id"].as_str().unwrap_or_default().to_owned()
    }

    /// The number of events in the log, read straight from the database.
    pub async fn log_head(&self) -> u64 {
        let location =
            suspense_store::StoreLocation::parse(&self.db.url()).unwrap_or_else(|e| panic!("{e}"));
        let log = suspense_store::EventLog::open(
            &location,
            suspense_testkit::fixed_services(),
            &Default::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let head = log
            .settle(std::time::Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        log.close().await;
        head
    }

    /// Runs the CLI against this app's database and configuration.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.cli_command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run suspense: {e}"))
    }

    /// Runs the CLI as `cli` does, its standard output a pipe whose reader is gone: a
    /// reporting job that piped it into `head`, which stopped reading.
    pub fn cli_into_closed_pipe(&self, args: &[&str]) -> std::process::Output {
        let (reader, writer) = std::io::pipe().unwrap_or_else(|e| panic!("a pipe: {e}"));
        drop(reader);
        self.cli_command(args)
            .stdout(writer)
            .output()
            .unwrap_or_else(|e| panic!("cannot run suspense: {e}"))
    }

    fn cli_command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(binary());
        command
            .args(args)
            .env("DATABASE_URL", self.db.url())
            .env("SUSPENSE_CONFIG", &self.config);
        command
    }
}

impl TestApp {
    /// Sends SIGTERM and waits (at most 30 s) for the service to stop; returns its exit code.
    pub async fn terminate(&mut self) -> Option<i32> {
        let pid = self.child.id()?;
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        match tokio::time::timeout(std::time::Duration::from_secs(30), self.child.wait()).await {
            Ok(Ok(status)) => status.code(),
            _ => None,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// A valid open-item body.
pub fn booking(reference: &str, amount: &str) -> Value {
    serde_json::json!({
        "source_system": "CORE",
        "reference": reference,
        "account": "2241-01",
        "branch": "SH-001",
        "channel": "online_banking",
        "amount": amount,
        "currency": "CNY",
        "direction": "credit",
        "booked_on": "2026-03-02",
        "description": "incoming transfer, beneficiary unknown",
        "funds_held": true
    })
}

/// Starts `suspense serve` on 127.0.0.1:0 with a fresh database of `backend` and a
/// configuration holding `USERS`, and waits until it listens.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_on(TestDatabase::create(backend).await).await
}

/// Like `spawn_app`, on a database the test made (a private PostgreSQL cluster, say).
pub async fn spawn_app_on(db: TestDatabase) -> TestApp {
    spawn_app_configured(db, "").await
}

/// Like `spawn_app_on`, with `settings` (top-level configuration lines) added.
pub async fn spawn_app_configured(db: TestDatabase, settings: &str) -> TestApp {
    spawn_app_with_env(db, settings, &[]).await
}

/// Like `spawn_app_configured`, with environment variables for the service.
pub async fn spawn_app_with_env(db: TestDatabase, settings: &str, env: &[(&str, &str)]) -> TestApp {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("suspense.toml");
    let mut file = std::fs::File::create(&config).unwrap_or_else(|e| panic!("{e}"));
    let mut text = format!(
        "time_zone = \"Asia/Shanghai\"\n{settings}\n\n[approval]\namount_thresholds = {{ CNY = \"100000\" }}\n\n[counterparties]\nALIPAY = \"支付宝\"\nUNIONPAY = \"银联\"\n",
    );
    let users = USERS
        .iter()
        .map(|(name, roles, token)| (*name, *roles, *token, None))
        .chain(
            BRANCH_USERS
                .iter()
                .map(|(name, roles, token, home)| (*name, *roles, *token, Some(*home))),
        );
    for (name, roles, token, home) in users {
        let roles: Vec<String> = roles.iter().map(|r| format!("\"{r}\"")).collect();
        let hash = hex::encode(Sha256::digest(token.as_bytes()));
        text.push_str(&format!(
            "\n[[users]]\nname = \"{name}\"\nroles = [{}]\ntoken_sha256 = \"{hash}\"\n",
            roles.join(", ")
        ));
        if let Some(home) = home {
            text.push_str(&format!("home_branch = \"{home}\"\n"));
        }
    }
    file.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let (child, address) = start(&db.url(), &config, &env).await;
    TestApp {
        address,
        db,
        config,
        env,
        _dir: dir,
        child,
        client: reqwest::Client::new(),
    }
}

/// Runs `suspense serve` and waits for its address.
async fn start(
    database_url: &str,
    config: &std::path::Path,
    env: &[(String, String)],
) -> (Child, String) {
    let mut child = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", database_url)
        .env("SUSPENSE_CONFIG", config)
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start suspense: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut lines = BufReader::new(stdout).lines();
    let address = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(address) = line.strip_prefix("listening on http://") {
                return address.to_owned();
            }
        }
        panic!("suspense exited before listening")
    })
    .await
    .unwrap_or_else(|_| panic!("suspense did not start listening within 60s"));
    (child, address)
}

impl TestApp {
    /// SIGKILL: no chance to finish anything.
    pub async fn kill9(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// Starts the service again on the same database and configuration (a new port).
    pub async fn restart(&mut self) {
        let (child, address) = start(&self.db.url(), &self.config, &self.env).await;
        self.child = child;
        self.address = address;
    }
}

/// Another instance of a test app's service: the same database and configuration, its own
/// port. It stops when dropped.
pub struct Instance {
    pub address: String,
    child: Child,
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// SIGKILL: no chance to finish anything.
    pub async fn kill9(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

impl TestApp {
    /// Starts another `suspense serve` on this app's database and configuration.
    pub async fn another_instance(&self) -> Instance {
        let (child, address) = start(&self.db.url(), &self.config, &self.env).await;
        Instance { address, child }
    }
}

async fn open_log(url: &str) -> std::sync::Arc<suspense_store::EventLog> {
    let location = suspense_store::StoreLocation::parse(url).unwrap_or_else(|e| panic!("{e}"));
    std::sync::Arc::new(
        suspense_store::EventLog::open(
            &location,
            suspense_testkit::fixed_services(),
            &suspense_store::PoolSettings::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}")),
    )
}

/// Read models at rest equal a rebuild from the log, and the hash chain verifies.
pub async fn assert_consistent(app: &TestApp) {
    let fresh = app.get("/v1/reports/open-balance?fresh=true", "rita").await;
    assert_eq!(fresh.status(), 200);
    let log = open_log(&app.db.url()).await;
    let settings = suspense::read_models::ReadModelSettings {
        calendar: suspense::read_models::ReportingCalendar::parse("Asia/Shanghai")
            .unwrap_or_default(),
    };
    let projector = suspense::read_models::Projector::new(std::sync::Arc::clone(&log), settings)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    projector
        .refresh(std::time::Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let incremental = suspense::read_models::ReadModelSnapshot::take(&log)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for &model in suspense::read_models::ReadModel::ALL {
        projector
            .rebuild(model, |_| {})
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        suspense::read_models::ReadModelSnapshot::take(&log)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        incremental
    );
    let verdict = log.verify_chain().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(verdict.is_intact(), "{verdict:?}");
    log.close().await;
}
