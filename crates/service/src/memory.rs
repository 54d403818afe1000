//! How the process takes memory from the kernel.

/// Turns transparent huge pages off for this process (Linux; elsewhere there is nothing to
/// turn off). Returns whether it did; if it could not, the process runs as before.
///
/// Why: a catch-up frees and takes again hundreds of megabytes for each page of the log it
/// folds. With the kernel's THP mode `always` (this project's machines), every fresh region
/// was faulted in 2 MiB at a time and zeroed whole, much of it never used: the kernel's
/// page clearing was a sixth of a 1M-event PostgreSQL catch-up's CPU in the process. Without
/// THP its system time fell from 2.1-2.5 s to 1.2-1.3 s and the whole catch-up ran
/// 12.0-12.5 s against 12.6-15.0 s (docs/performance.md). Databases that churn memory
/// recommend the same (Redis warns when THP is on).
pub fn prefer_small_pages() -> bool {
    #[cfg(target_os = "linux")]
    {
        nix::sys::prctl::set_thp_disable(true).is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::prefer_small_pages;

    #[test]
    fn the_process_takes_no_transparent_huge_pages_after_it() {
        assert!(prefer_small_pages());
        assert_eq!(nix::sys::prctl::get_thp_disable(), Ok(true));
    }
}
