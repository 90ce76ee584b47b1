//! What the benchmarks share.

/// The number after `flag` on the command line (`-- --rows 2000`), else `default`.
pub fn number_arg(flag: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
