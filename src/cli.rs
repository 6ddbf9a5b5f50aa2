//! Command-line arguments. Clap types live here and nowhere else: they are
//! turned into [`crate::commands::Command`] settings once, so commands never
//! see clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;

use crate::commands::{Command, ExplainSettings, Format, Input, PlanSettings, ValidateSettings};

/// Offboarding as a provable control point: inventory and Cedar policies as
/// code, a decision for every record a leaver leaves behind.
#[derive(Debug, Parser)]
#[command(name = "severance", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Sub,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Check the inventory and policies, reporting every problem with its place.
    Validate(InputArgs),
    /// Decide, for every record, which offboarding actions are due.
    Plan(PlanArgs),
    /// Show one record, what it links to, and why each action is or is not due.
    Explain(ExplainArgs),
}

/// Where the inventory and policies are.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Directory of YAML records (searched recursively).
    #[arg(long, default_value = "inventory", value_name = "DIR")]
    pub inventory: PathBuf,
    /// Directory holding `schema.cedarschema` and `*.cedar` policies.
    #[arg(long, default_value = "policies", value_name = "DIR")]
    pub policies: PathBuf,
}

/// The instant decisions are made at.
#[derive(Debug, Args)]
pub struct AsOfArgs {
    /// The run's instant, RFC 3339 (default: now). Printed in every output so
    /// a run can be replayed exactly.
    #[arg(long, value_name = "RFC3339", value_parser = parse_as_of)]
    pub as_of: Option<Timestamp>,
}

/// `severance plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    as_of: AsOfArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
}

/// `severance explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The id of the record to explain.
    #[arg(value_name = "ID")]
    id: String,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    as_of: AsOfArgs,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// For people.
    Human,
    /// One versioned JSON document.
    Json,
}

fn parse_as_of(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>()
        .map_err(|e| format!("`{s}` is not an RFC 3339 date-time with an offset ({e})"))
}

impl InputArgs {
    fn into_input(self) -> Input {
        let InputArgs {
            inventory,
            policies,
        } = self;
        Input {
            inventory,
            policies,
        }
    }
}

impl AsOfArgs {
    fn resolve(self) -> Timestamp {
        let AsOfArgs { as_of } = self;
        as_of.unwrap_or_else(Timestamp::now)
    }
}

impl Cli {
    /// Resolves arguments into command settings (defaults applied, the
    /// clock read once).
    pub fn into_command(self) -> Command {
        match self.command {
            Sub::Validate(input) => Command::Validate(ValidateSettings {
                input: input.into_input(),
            }),
            Sub::Plan(PlanArgs {
                input,
                as_of,
                format,
            }) => Command::Plan(PlanSettings {
                input: input.into_input(),
                as_of: as_of.resolve(),
                format: match format {
                    FormatArg::Human => Format::Human,
                    FormatArg::Json => Format::Json,
                },
            }),
            Sub::Explain(ExplainArgs { id, input, as_of }) => Command::Explain(ExplainSettings {
                id,
                input: input.into_input(),
                as_of: as_of.resolve(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn as_of_needs_an_offset() {
        assert!(parse_as_of("2026-11-25T00:00:00Z").is_ok());
        assert!(parse_as_of("2026-11-25T00:00:00").is_err());
    }
}
