//! Counters for `/metrics`, in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Metrics {
    /// (command, outcome) → count.
    commands: Mutex<BTreeMap<(String, String), u64>>,
    /// command → (count, total seconds).
    latency: Mutex<BTreeMap<String, (u64, f64)>>,
}

impl Metrics {
    pub fn record(&self, command: &str, outcome: &str, elapsed: Duration) {
        if let Ok(mut commands) = self.commands.lock() {
            *commands
                .entry((command.to_owned(), outcome.to_owned()))
                .or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let entry = latency.entry(command.to_owned()).or_default();
            entry.0 += 1;
            entry.1 += elapsed.as_secs_f64();
        }
    }

    pub fn render(&self, lag: &[(String, u64)], events_applied: u64, poisoned: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP suspense_commands_total Commands by type and outcome."
        );
        let _ = writeln!(out, "# TYPE suspense_commands_total counter");
        if let Ok(commands) = self.commands.lock() {
            for ((command, outcome), n) in commands.iter() {
                let _ = writeln!(
                    out,
                    "suspense_commands_total{{command=\"{command}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP suspense_command_seconds Time to execute commands."
        );
        let _ = writeln!(out, "# TYPE suspense_command_seconds summary");
        if let Ok(latency) = self.latency.lock() {
            for (command, (count, sum)) in latency.iter() {
                let _ = writeln!(
                    out,
                    "suspense_command_seconds_count{{command=\"{command}\"}} {count}"
                );
                let _ = writeln!(
                    out,
                    "suspense_command_seconds_sum{{command=\"{command}\"}} {sum:.6}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP suspense_projector_lag_events Log events not yet in a read model."
        );
        let _ = writeln!(out, "# TYPE suspense_projector_lag_events gauge");
        for (model, lag) in lag {
            let _ = writeln!(
                out,
                "suspense_projector_lag_events{{read_model=\"{model}\"}} {lag}"
            );
        }
        let _ = writeln!(
            out,
            "# TYPE suspense_projector_events_applied_total counter"
        );
        let _ = writeln!(
            out,
            "suspense_projector_events_applied_total {events_applied}"
        );
        let _ = writeln!(
            out,
            "# TYPE suspense_projector_poisoned_events_total counter"
        );
        let _ = writeln!(out, "suspense_projector_poisoned_events_total {poisoned}");
        out
    }
}
