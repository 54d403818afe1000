//! Any bytes as an audit export: reading and verifying it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use suspense_store::{verify_export, ExportedEvent};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let events: Vec<ExportedEvent> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let verdict = verify_export(&events);
    if let Some((position, _)) = verdict.first_problem {
        assert!(position >= 1);
    }
});
