//! CPU time spent, where the machine tells it (Linux's /proc). On a two-core machine the
//! catch-up keeps both cores busy, so its wall time follows the CPU time of everything
//! involved: the database's and this process's. Those say where the work went, and vary less
//! with what else the machine does than wall time.

/// Linux reports CPU time in these ticks per second (`USER_HZ`, fixed by its ABI).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds used so far: by the whole machine (every core, busy time only) and by this
/// process. `None` where /proc cannot be read.
#[derive(Clone, Copy)]
pub struct CpuTime {
    machine: Option<f64>,
    process: Option<f64>,
}

impl CpuTime {
    pub fn now() -> Self {
        Self {
            machine: machine_busy_ticks().map(|t| t / TICKS_PER_SECOND),
            process: process_ticks().map(|t| t / TICKS_PER_SECOND),
        }
    }

    /// `machine (process)` CPU seconds since `earlier`, or `-` where unknown.
    pub fn since(&self, earlier: &CpuTime) -> String {
        match (self.machine, earlier.machine, self.process, earlier.process) {
            (Some(m), Some(m0), Some(p), Some(p0)) => format!("{:.1} ({:.1})", m - m0, p - p0),
            _ => "-".to_owned(),
        }
    }
}

/// Busy ticks of all cores: the first line of /proc/stat without idle and I/O wait.
fn machine_busy_ticks() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<f64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is inside user already)
    let busy = [0, 1, 2, 5, 6, 7];
    Some(busy.iter().filter_map(|&i| fields.get(i)).sum())
}

/// User and system ticks of this process: /proc/self/stat fields 14 and 15, counted after the
/// parenthesised command name (which may hold spaces).
fn process_ticks() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}
