//! `--parallelism auto`: as many accounts at once as the machine's file descriptors and
//! memory allow. Each account in flight holds up to `--concurrency` connections (one per call
//! in flight, on the run's one connection pool) and its working set (its live state, its
//! plan, its SDK clients); everything else of a run is per process.
//!
//! ```text
//! by_sockets = (open-file limit - RESERVED_FDS) / concurrency
//! by_memory  = available memory / 4 / MEMORY_PER_ACCOUNT
//! auto       = clamp(min(by_sockets, by_memory), 1, MAX_AUTO)
//! ```
//!
//! The open-file limit is raised to its hard limit first (the soft limit is often 1,024
//! while the hard one is far higher). Available memory is Linux's `MemAvailable`; elsewhere
//! only the file descriptors bound it.

/// File descriptors a run needs besides its connections: stdio, the spill file, the audit
/// log, DNS, the SDK's own.
pub const RESERVED_FDS: u64 = 64;
/// The memory one account in flight may take at its peak, with room: an account of a few
/// thousand users (its live state and plan), its clients, and its connections' buffers.
/// Measured on moto (peak RSS against `--parallelism` over one fleet, debug build;
/// BENCHMARKS.md): 1.2-1.4 MB per 20-user account in flight, 3.4 MB per 1,000-user account.
pub const MEMORY_PER_ACCOUNT: u64 = 8 << 20;
/// The most accounts `auto` runs at once: beyond it the base identity's own calls (STS,
/// Organizations) and the one process's CPU, not the accounts, set the pace.
pub const MAX_AUTO: usize = 512;

/// What `auto` came to, and from what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoParallelism {
    pub accounts: usize,
    /// The open-file limit it used.
    pub open_files: u64,
    /// Available memory in bytes, when known.
    pub available_memory: Option<u64>,
}

/// `--parallelism auto` for `concurrency` calls per account, on this machine (the open-file
/// limit raised to its hard limit first).
pub fn auto_parallelism(concurrency: usize) -> AutoParallelism {
    let open_files = raise_open_files();
    let available_memory = available_memory();
    AutoParallelism {
        accounts: parallelism_for(open_files, available_memory, concurrency),
        open_files,
        available_memory,
    }
}

/// The formula of the module's documentation, on plain values.
pub fn parallelism_for(
    open_files: u64,
    available_memory: Option<u64>,
    concurrency: usize,
) -> usize {
    let by_sockets = open_files.saturating_sub(RESERVED_FDS) / (concurrency.max(1) as u64);
    let by_memory = available_memory.map_or(u64::MAX, |bytes| bytes / 4 / MEMORY_PER_ACCOUNT);
    let accounts = usize::try_from(by_sockets.min(by_memory)).unwrap_or(usize::MAX);
    accounts.clamp(1, MAX_AUTO)
}

/// Raises the soft open-file limit to the hard one; returns the limit now in force.
fn raise_open_files() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if let Some(maximum) = limit.maximum.filter(|&max| max > current) {
        let raised = rustix::process::Rlimit {
            current: Some(maximum),
            maximum: Some(maximum),
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return maximum;
        }
    }
    // No limit at all: as if the usual hard limit.
    limit.current.unwrap_or(1 << 20)
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    meminfo_available(&meminfo)
}

fn meminfo_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tighter_of_sockets_and_memory_decides_within_bounds() {
        // 1,024 files, 8 calls per account: (1024 - 64) / 8 = 120 accounts.
        assert_eq!(parallelism_for(1024, None, 8), 120);
        // 4 GiB available: a quarter of it is 128 accounts of 8 MiB.
        assert_eq!(parallelism_for(1 << 20, Some(4 << 30), 8), 128);
        assert_eq!(parallelism_for(1 << 20, Some(64 << 30), 1), MAX_AUTO);
        assert_eq!(parallelism_for(32, Some(1 << 20), 8), 1);
    }

    #[test]
    fn available_memory_is_read_from_meminfo() {
        let meminfo = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(meminfo_available(meminfo), Some(2048 * 1024));
        assert_eq!(meminfo_available("MemTotal: 1 kB\n"), None);
    }
}
