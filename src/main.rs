//! The `severance` binary: parse arguments, run the command against the
//! process's stdout and stderr, exit with its status.

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let (command, show_progress) = severance::cli::Cli::parse().into_command();
    if show_progress {
        severance::commands::show_progress();
    }
    severance::commands::leave_memory_to_exit();
    let status = severance::commands::run(
        command,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    );
    status.into()
}
