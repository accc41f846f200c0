//! The gasguard binary: parse arguments, run, exit. A panic is a bug: it is
//! caught here and reported as an internal error (exit 2), never a crash.

// jemalloc: see Cargo.toml for the measured reason.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("gasguard: internal error: {info}");
        eprintln!("gasguard: this is a bug; please report it with the input that caused it");
    }));
    let code = std::panic::catch_unwind(|| gasguard::cli::run(std::env::args_os().collect()))
        .unwrap_or(gasguard::cli::EXIT_ERROR);
    std::process::exit(code);
}
