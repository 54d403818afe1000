//! The suspense HTTP service: the release binary started as its own process, driven over HTTP.

use suspense_domain::ItemAction;

use super::{Outcome, Target};

pub struct Http {
    client: reqwest::Client,
    base: String,
    token: String,
}

/// A running `suspense serve` (the release binary next to this one).
pub struct Service {
    child: std::process::Child,
    pub base: String,
    pub token: String,
    _dir: tempfile::TempDir,
}

impl Service {
    /// Starts the release `suspense serve` binary (next to this one) on `url`'s database.
    pub fn start(url: &str) -> Self {
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
        let binary = exe.with_file_name("suspense");
        assert!(
            binary.exists(),
            "build the service first: cargo build --release -p suspense-service"
        );
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let token = "bench-token-operator".to_owned();
        let hash = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(token.as_bytes()))
        };
        let config = dir.path().join("suspense.toml");
        std::fs::write(&config, format!("time_zone = \"{}\"\n\n[[users]]\nname = \"load\"\nroles = [\"operator\", \"reporter\"]\ntoken_sha256 = \"{hash}\"\n", crate::seed::TIME_ZONE))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut command = std::process::Command::new(binary);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", url)
            .env("SUSPENSE_CONFIG", &config)
            .env("RUST_LOG", "error");
        Self::spawn(command, token, dir)
    }

    /// Starts the plain cqrs-es demo-style service (`suspense-bench plain-serve`) on `url`.
    pub fn start_plain(url: &str) -> Self {
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut command = std::process::Command::new(exe);
        command.args(["plain-serve", "--url", url, "--listen", "127.0.0.1:0"]);
        Self::spawn(command, "unused".to_owned(), dir)
    }

    fn spawn(mut command: std::process::Command, token: String, dir: tempfile::TempDir) -> Self {
        use std::io::BufRead;
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut line = String::new();
        let mut reader = std::io::BufReader::new(stdout);
        while reader.read_line(&mut line).unwrap_or(0) > 0 && !line.starts_with("listening on ") {
            line.clear();
        }
        let base = line.trim().trim_start_matches("listening on ").to_owned();
        Self {
            child,
            base,
            token,
            _dir: dir,
        }
    }

    /// Peak resident memory of the service so far, from /proc (Linux).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn target(&self) -> Http {
        Http {
            client: reqwest::Client::new(),
            base: self.base.clone(),
            token: self.token.clone(),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn body(action: &ItemAction) -> (String, serde_json::Value) {
    use serde_json::json;
    match action {
        ItemAction::Open(item) => (
            String::new(),
            json!({"source_system": item.reference.source_system.as_str(), "reference": item.reference.reference.as_str(),
                   "account": "2241-01", "branch": "SH-001", "channel": "online_banking", "amount": "1000.00",
                   "currency": "CNY", "direction": "credit", "booked_on": "2026-03-02", "description": "load test booking"}),
        ),
        ItemAction::Classify { .. } => (
            "/classify".into(),
            json!({"category": "customer_cause", "code": "CUS-REFERENCE"}),
        ),
        ItemAction::Assign { .. } => ("/assign".into(), json!({"team": "recon"})),
        ItemAction::RecordClearing { .. } => (
            "/clearings".into(),
            json!({"clearing_reference": "CLR-1", "amount": "400.00", "currency": "CNY"}),
        ),
        ItemAction::Resolve(_) => (
            "/resolve".into(),
            json!({"method": "refunded", "amount": "600.00", "currency": "CNY"}),
        ),
        ItemAction::Comment { text } => ("/comments".into(), json!({"text": text.as_str()})),
        _ => ("/comments".into(), json!({"text": "other"})),
    }
}

#[async_trait::async_trait]
impl Target for Http {
    async fn command(&self, item: &str, _step: usize, action: ItemAction) -> Outcome {
        let (suffix, body) = body(&action);
        let url = if matches!(action, ItemAction::Open(_)) {
            format!("{}/v1/items", self.base)
        } else {
            format!("{}/v1/items/{item}{suffix}", self.base)
        };
        match self
            .client
            .post(url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => Outcome::Done,
            Ok(r) if r.status() == 409 => Outcome::Conflict,
            _ => Outcome::Error,
        }
    }

    async fn read_item(&self, item: &str) -> bool {
        self.client
            .get(format!("{}/v1/items/{item}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    async fn read_balance(&self) -> bool {
        true
    }
}
