//! The API fuzz run: schemathesis, driven by the document the service serves at
//! `/openapi.json`, sends schema-valid and schema-violating requests to the real service as
//! each role, and fails on a schema-valid request refused (400, or 422 `invalid_field`: the
//! hook in `tests/fuzz/hooks.py`), a schema-violating one accepted, a server error, or an
//! answer the document does not describe. `.ci/ensure-schemathesis` installs the fuzzer.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use suspense_tests::app::{spawn_app, token};
use suspense_tests::Backend;

/// Where `.ci/ensure-schemathesis` installs the fuzzer; `SCHEMATHESIS` names another.
fn schemathesis() -> PathBuf {
    std::env::var_os("SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/suspense-tools/schemathesis/bin/st"))
}

#[tokio::test]
async fn api_fuzz_finds_no_valid_request_refused_nor_invalid_one_accepted() {
    let st = schemathesis();
    assert!(
        st.exists(),
        "{} is missing: run .ci/ensure-schemathesis (or .ci/ensure-services)",
        st.display()
    );
    let app = spawn_app(Backend::Sqlite).await;
    // An item, so that commands and reads by id meet one now and then besides unknown ids.
    app.open_item("FUZZ-1", "100.00").await;
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for user in ["olivia", "sam", "rita", "ada"] {
        let output = tokio::process::Command::new(&st)
            .arg("--config-file")
            .arg(fuzz.join("schemathesis.toml"))
            .arg("run")
            .arg(app.url("/openapi.json"))
            .args(["--checks", "all", "--max-examples", "10", "--workers", "1"])
            .args(["--phases", "examples,coverage,fuzzing"])
            // One worker: the fuzzer's data generation is not safe across threads. The same
            // requests every run: a failure here is reproducible, not a lucky draw.
            .args(["--seed", "20261205", "--no-color"])
            .arg("--header")
            .arg(format!("Authorization: Bearer {}", token(user)))
            .env("SCHEMATHESIS_HOOKS", "hooks")
            .env("PYTHONPATH", &fuzz)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", st.display()));
        assert!(
            output.status.success(),
            "the fuzz run as {user} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
