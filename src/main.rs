//! The `severance` binary: parse arguments, run the command against the
//! process's stdout and stderr, exit with its status.

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let command = severance::cli::Cli::parse().into_command();
    let status = severance::commands::run(
        command,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    status.into()
}
