//! The allocator's footprint. glibc's malloc gives threads arenas of their
//! own, up to eight per core, and keeps each arena's freed pages; a poll
//! runs its parses on the blocking pool and its writes on SQLite's worker
//! threads, so a daemon polling 100,000 feeds grew past its memory budget
//! in arenas alone. One arena per core (at least two, at most eight) keeps
//! it inside (`cargo bench --bench poll` prints the peak RSS: 58 MiB where
//! it was 66), for about 9 % of a first poll's speed on two cores (threads
//! share arenas); re-polls are not slowed. An operator's own
//! `MALLOC_ARENA_MAX` wins. mimalloc was tried instead and doubled the peak.

/// Bounds malloc's arenas; call first thing, before threads start.
pub fn bound_allocator_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let arenas = cores.clamp(2, 8) as libc::c_int;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a malloc tunable; called before other
    // threads exist, and a refused value (0 returned) changes nothing.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = arenas;
}
