//! The `ceasefire-watch` binary: parse arguments, start telemetry, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

use ceasefire_watch::{cli, parse, telemetry};

fn main() -> ExitCode {
    limit_malloc_arenas();
    // One line per panic on stderr; none for a parser panic that is contained and reported
    // as that feed's error.
    std::panic::set_hook(Box::new(|info| {
        if !parse::panic_is_contained() {
            let msg = info.to_string().replace('\n', " ");
            eprintln!("internal error (please report): {msg}");
        }
    }));
    let cli = cli::Cli::parse();
    if cli.command.ends_quietly_on_closed_pipe() {
        restore_sigpipe();
    }
    telemetry::init(cli.command.is_data_command(), cli.log_format());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(cli::execute(cli))
}

/// Rust ignores SIGPIPE, so a write to a closed pipe fails and `println!` panics. For the
/// commands that only write to stdout, the default action ends the process as `cat` ends.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// glibc's malloc now serves only C code, SQLite above all (Rust's allocations go to
/// jemalloc, below). glibc gives each thread that allocates its own arena (up to 8 per core),
/// and each of the pool's connection threads would keep one: two arenas, set before any
/// thread starts. `MALLOC_ARENA_MAX` in the environment still wins. (Before jemalloc, when
/// polls parsed on one thread and the store freed on another, this saved a cold cycle of a
/// thousand feeds a quarter of its peak memory.)
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called before any other
        // thread exists, and a refusal (return 0) leaves the default in place.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// jemalloc: a cold start of a thousand feeds spent a fifth of its CPU in glibc's malloc and
/// free (parsing makes many short-lived strings on several threads). See ARCHITECTURE.md.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main`: two arenas (one per core of the hosts we size
/// for, instead of four per core), freed pages returned to the system within 300 ms, and
/// small thread caches, which keep a cold start's peak memory near glibc's. The environment
/// variable `_RJEM_MALLOC_CONF` overrides them.
#[unsafe(no_mangle)]
static _rjem_malloc_conf: MallocConf =
    MallocConf(c"narenas:2,dirty_decay_ms:300,muzzy_decay_ms:0,tcache_max:8192".as_ptr());

#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);

// SAFETY: it points to a string literal, which is immutable and lives for the whole program.
unsafe impl Sync for MallocConf {}
