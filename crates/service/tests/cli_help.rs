//! The binary starts and describes itself (this test also makes `cargo test` build the
//! `suspense` binary that the workspace's black-box tests in `tests/` run).

use std::process::Command;

#[test]
fn help_lists_every_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_suspense"))
        .arg("--help")
        .output()
        .expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for command in [
        "serve", "demo", "import", "report", "items", "migrate", "rebuild", "users",
    ] {
        assert!(text.contains(command), "--help mentions {command}:\n{text}");
    }
}

#[test]
fn a_bad_flag_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_suspense"))
        .arg("--no-such-flag")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}
