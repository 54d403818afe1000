//! The `suspense` command line, as an operator runs it.

use std::io::Write;

use suspense_tests::app::spawn_app;
use suspense_tests::Backend;

const HEADER: &str = "source_system,reference,account,branch,channel,amount,currency,direction,booked_on,value_date,description,funds_held,fee_amount,fee_currency";

fn csv_file(rows: &[&str]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    writeln!(file, "{HEADER}").unwrap_or_else(|e| panic!("{e}"));
    for row in rows {
        writeln!(file, "{row}").unwrap_or_else(|e| panic!("{e}"));
    }
    file
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn import_checks_every_row_first_and_is_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let bad = csv_file(&[
        "CORE,IMP-1,2241-01,SH-001,counter,100.00,CNY,credit,2026-03-01,,cash difference,no,,",
        "CORE,IMP-2,2241-01,SH-001,counter,100.001,CNY,credit,2026-03-01,,too precise,no,,",
        "CORE,IMP-3,2241-01,SH-001,fax,5.00,CNY,credit,2026-03-01,,unknown channel,no,,",
        "CORE,IMP-4,2241-01,SH-001,atm,5.00,CNY,credit,2026-03-01,,fee without currency,yes,1.00,",
        "CORE,IMP-1,2241-01,SH-001,counter,999.00,CNY,credit,2026-03-01,,same reference other facts,no,,",
    ]);
    let path = bad.path().display().to_string();
    let output = app.cli(&["import", &path]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for expected in [
        "4 bad row(s); nothing was imported",
        "line 3: amount: CNY allows at most 2 decimal places",
        "line 4: channel: 'fax' is not one of",
        "line 5: fee_currency: is required with fee_amount",
        "line 6: reference: CORE/IMP-1 also appears on line 2 with different facts",
    ] {
        assert!(
            stderr.contains(expected),
            "missing «{expected}» in:\n{stderr}"
        );
    }
    assert_eq!(
        app.log_head().await,
        0,
        "a file with bad rows writes nothing"
    );

    let good = csv_file(&[
        "CORE,IMP-1,2241-01,SH-001,counter,100.00,CNY,credit,2026-03-01,,cash difference,no,,",
        "CARD,IMP-2,2241-02,BJ-001,card,12.34,USD,debit,2026-03-02,2026-03-01,settlement mismatch,yes,1.50,USD",
    ]);
    let path = good.path().display().to_string();
    let output = app.cli(&["import", &path]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("opened 2 item(s); 0 were already open"));
    let again = app.cli(&["import", &path]);
    assert!(
        text(&again.stdout).contains("opened 0 item(s); 2 were already open"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(app.log_head().await, 2);

    let conflicting = csv_file(&[
        "CORE,IMP-1,2241-01,SH-001,counter,1.00,CNY,credit,2026-03-01,,changed amount,no,,",
    ]);
    let output = app.cli(&["import", &conflicting.path().display().to_string()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr)
        .contains("line 2: reference: CORE/IMP-1 is already open with different facts"));
    assert_eq!(app.log_head().await, 2);

    let csv = app.cli(&[
        "report",
        "root-causes",
        "--period",
        "month",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--format",
        "csv",
    ]);
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("period,category,code"), "{csv}");
    assert!(
        csv.contains("2026-03,unclassified,unclassified,SH-001,counter,CNY,1,100.00"),
        "{csv}"
    );
    let json = app.cli(&[
        "report",
        "root-causes",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap_or_default();
    assert_eq!(json["time_zone"], "Asia/Shanghai");
    let table = app.cli(&["report", "aging", "--as-of", "2026-03-31"]);
    assert!(
        text(&table.stdout).contains("0-30"),
        "{}",
        text(&table.stdout)
    );
    let list = app.cli(&["items", "list", "--branch", "BJ-001"]);
    assert!(
        text(&list.stdout).contains("12.34"),
        "{}",
        text(&list.stdout)
    );
}
suspense_tests::on_both_backends!(
    import_checks_every_row_first_and_is_idempotent,
    super::import_checks_every_row_first_and_is_idempotent
);

#[tokio::test]
async fn operators_manage_users_migrate_and_rebuild() {
    let app = spawn_app(Backend::Sqlite).await;
    let added = app.cli(&[
        "users", "add", "nina", "--role", "auditor", "--role", "reporter",
    ]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let token = text(&added.stdout).trim().to_owned();
    assert!(token.starts_with("sus_") && token.len() == 68, "{token}");
    let config = std::fs::read_to_string(&app.config).unwrap_or_default();
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    assert!(config.contains(&hash), "only the hash is stored");
    assert!(!config.contains(&token), "the token itself is never stored");
    assert!(config.contains("roles = [\"auditor\", \"reporter\"]"));
    let duplicate = app.cli(&["users", "add", "nina", "--role", "auditor"]);
    assert_eq!(duplicate.status.code(), Some(2));
    let bad_role = app.cli(&["users", "add", "zed", "--role", "janitor"]);
    assert_eq!(bad_role.status.code(), Some(2));
    assert!(text(&bad_role.stderr).contains("'janitor' is not one of"));

    let migrated = app.cli(&["migrate"]);
    assert!(migrated.status.success() && text(&migrated.stdout).contains("is migrated"));
    app.open_item("RB-1", "5.00").await;
    let rebuilt = app.cli(&["rebuild", "all"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    assert!(text(&rebuilt.stdout).contains("item_register rebuilt up to log position 1"));
    let wrong = app.cli(&["rebuild", "everything"]);
    assert_eq!(wrong.status.code(), Some(2));
}

#[test]
fn the_demo_loads_a_year_and_prints_its_reports() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let output = std::process::Command::new(suspense_tests::app::binary())
        .args(["demo", "--no-serve", "--items", "300"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("SUSPENSE_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("root causes of the last month"), "{stdout}");
    assert!(
        stdout.contains("(Asia/Shanghai) by category:"),
        "the demo bank reports in Shanghai time: {stdout}"
    );
    let config = std::fs::read_to_string(dir.path().join("suspense.toml")).unwrap_or_default();
    assert!(config.contains("time_zone = \"Asia/Shanghai\""), "{config}");
    assert!(stdout.contains("open balance CNY"), "{stdout}");
    assert!(stdout.contains("remediation plan"), "{stdout}");
    assert!(stdout.contains("teller training"), "{stdout}");
    assert!(stdout.contains("incident INC-DEMO-OUTAGE"), "{stdout}");
    assert!(dir.path().join("suspense.db").exists());
    // The plan is stored, approved, and its last ended phase's evaluation recorded.
    let shown = std::process::Command::new(suspense_tests::app::binary())
        .args(["plan", "show", "demo-remediation"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("SUSPENSE_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap_or_default();
    assert_eq!(plan["status"], "approved");
    assert_eq!(plan["approved_by"], "head-demo");
    assert_eq!(plan["measures"][0]["status"], "done");
    assert_eq!(plan["evaluations"].as_array().map(Vec::len), Some(1));
}

/// A reporting job that pipes a command into `head` stops reading early: the command ends
/// quietly and successfully (it panicked with exit status 101), except `users add`, whose
/// token exists nowhere else, so losing it is an error.
#[tokio::test]
async fn output_nobody_reads_ends_the_command_quietly() {
    let app = spawn_app(Backend::Sqlite).await;
    app.open_item("PIPE-1", "10.00").await;
    let commands: [&[&str]; 5] = [
        &[
            "report",
            "root-causes",
            "--period",
            "month",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-01",
            "--format",
            "csv",
        ],
        &["report", "aging", "--as-of", "2026-06-30"],
        &["items", "list"],
        &["audit", "verify"],
        &["migrate"],
    ];
    for args in commands {
        let output = app.cli_into_closed_pipe(args);
        let stderr = text(&output.stderr);
        assert!(
            output.status.success(),
            "{args:?}: {:?}\n{stderr}",
            output.status
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?}: {stderr}"
        );
    }

    let output = app.cli_into_closed_pipe(&["users", "add", "pat", "--role", "reporter"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("user pat was added to")
            && stderr.contains("its token could not be written"),
        "{stderr}"
    );
}

/// `suspense serve` announces its address on standard output; with nobody reading it, it
/// still serves.
#[tokio::test]
async fn the_service_serves_with_nobody_reading_its_output() {
    let db = suspense_tests::TestDatabase::create(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("a free port: {e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("suspense.toml");
    std::fs::write(&config, "time_zone = \"UTC\"\n").unwrap_or_else(|e| panic!("{e}"));
    let (reader, writer) = std::io::pipe().unwrap_or_else(|e| panic!("a pipe: {e}"));
    drop(reader);
    let mut child = tokio::process::Command::new(suspense_tests::app::binary())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", db.url())
        .env("SUSPENSE_CONFIG", &config)
        .stdout(writer)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start suspense: {e}"));
    let url = format!("http://127.0.0.1:{port}/healthz");
    let mut healthy = false;
    for _ in 0..300 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the service stopped: {status}");
        }
        if let Ok(response) = reqwest::get(&url).await {
            healthy = response.status().is_success();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(healthy, "the service never answered {url}");
}
