//! A private NATS server with JetStream per test (`nats-server -js` on its own port and
//! storage directory), which a test can stop and start again, and the stream that takes the
//! service's events.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

pub const SUBJECT: &str = "bank.suspense.events";
pub const STREAM: &str = "SUSPENSE";

pub struct PrivateNats {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// A message the stream holds.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sequence: u64,
    pub message_id: String,
    pub document: Value,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

impl PrivateNats {
    /// Starts a server and makes the stream (a two-minute duplicate window).
    pub async fn start() -> Self {
        let mut nats = Self {
            port: free_port(),
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
            child: None,
        };
        nats.run().await;
        let stream = async_nats::jetstream::stream::Config {
            name: STREAM.to_owned(),
            subjects: vec![SUBJECT.to_owned()],
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        nats.jetstream()
            .await
            .create_stream(stream)
            .await
            .unwrap_or_else(|e| panic!("creating the stream: {e}"));
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again), on the same port and storage.
    pub async fn run(&mut self) {
        // Debian installs it in /usr/sbin, which a user's PATH may leave out.
        let program = if std::path::Path::new("/usr/sbin/nats-server").exists() {
            "/usr/sbin/nats-server"
        } else {
            "nats-server"
        };
        let child = Command::new(program)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start nats-server (install it, or run .ci/ensure-services): {e}")
            });
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not listen on {}", self.port);
    }

    /// Stops the server at once.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    pub async fn jetstream(&self) -> async_nats::jetstream::Context {
        let client = async_nats::connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url()));
        async_nats::jetstream::new(client)
    }

    /// Every message the stream holds, in its order.
    pub async fn stored(&self) -> Vec<Stored> {
        let jetstream = self.jetstream().await;
        let mut stream = jetstream
            .get_stream(STREAM)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let last = stream
            .info()
            .await
            .map(|info| info.state.last_sequence)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut stored = Vec::new();
        for sequence in 1..=last {
            if let Ok(message) = stream.get_raw_message(sequence).await {
                stored.push(Stored {
                    sequence,
                    message_id: message
                        .headers
                        .get(async_nats::header::NATS_MESSAGE_ID)
                        .map(|v| v.as_str().to_owned())
                        .unwrap_or_default(),
                    document: serde_json::from_slice(&message.payload).unwrap_or_default(),
                });
            }
        }
        stored
    }

    /// Waits (up to 30 s) until the stream holds at least `n` messages.
    pub async fn wait_for(&self, n: usize) -> Vec<Stored> {
        for _ in 0..150 {
            let stored = self.stored().await;
            if stored.len() >= n {
                return stored;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let stored = self.stored().await;
        panic!("the stream holds {} of {n} messages", stored.len())
    }
}
