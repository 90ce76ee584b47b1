//! The allocators' footprint and speed. Rust's own allocations go to
//! mimalloc (`src/main.rs`): per-thread heaps, so a first poll's parse
//! threads, its writer and the HTTP tasks do not queue on malloc's locks
//! (glibc's arenas, bounded to one per core for memory, made them wait:
//! `cargo bench --bench poll`'s realistic first poll went from about 18 % of
//! fetch-only's rate to about 23 %). mimalloc's defaults (transparent huge
//! pages, freed memory kept 10 ms) more than doubled the peak RSS of polling
//! 100,000 feeds, so huge pages are off (the `no_thp` feature) and freed
//! memory goes back at once (`tune_mimalloc`): about 58 MiB, where glibc's
//! bounded arenas held about 48 (the streaming RSS reader had made room).
//!
//! SQLite and other C code still call glibc's malloc, whose arenas are
//! bounded to one per core (at least two, at most eight); an operator's own
//! `MALLOC_ARENA_MAX` wins.

/// Configures both allocators; call first thing, before threads start.
pub fn configure_allocators() {
    tune_mimalloc();
    bound_allocator_arenas();
}

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (`mimalloc.h`);
/// the Rust bindings name only the older options.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn tune_mimalloc() {
    // SAFETY: mi_option_set only stores a tunable's value.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

/// Bounds glibc malloc's arenas (what C code allocates).
fn bound_allocator_arenas() {
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
