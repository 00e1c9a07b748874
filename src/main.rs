//! The `ceasefire-watch` binary: parse arguments, start telemetry, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

use ceasefire_watch::{cli, parse, telemetry};

fn main() -> ExitCode {
    // One line per panic on stderr; none for a parser panic that is contained and reported
    // as that feed's error.
    std::panic::set_hook(Box::new(|info| {
        if !parse::panic_is_contained() {
            let msg = info.to_string().replace('\n', " ");
            eprintln!("internal error (please report): {msg}");
        }
    }));
    let cli = cli::Cli::parse();
    telemetry::init(cli.command.is_data_command());
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
