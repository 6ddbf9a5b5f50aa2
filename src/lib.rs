//! severance makes offboarding a control point that can be proven: an
//! inventory of people, hardware, accounts, grants and non-human identities
//! kept as YAML, Cedar policies that decide which actions each record's
//! owner's departure makes due, and a signed, hash-chained ledger of every
//! decision.
//!
//! The library does the work in stages, each a module with one entry
//! function and typed input and output: [`load::load`] →
//! [`validate::validate`] → [`evaluate::evaluate`] → [`decide::decide`] →
//! [`ledger`] ([`ledger::record_run`], [`ledger::verify`],
//! [`ledger::history`]) and [`diff::diff`] → [`check::check`] → [`report`].
//! Before them, [`import::import`] turns the exports of systems of record
//! into inventory files. The [`commands`] compose them; the binary only parses arguments and prints
//! what the commands return. `docs/architecture.md` draws the graph.

pub mod audit;
pub mod check;
pub mod cli;
pub mod commands;
pub mod decide;
pub mod departure;
pub mod diag;
pub mod diff;
pub mod error;
pub mod evaluate;
pub mod exit;
pub mod fuzz;
pub mod generate;
pub mod grid;
pub mod import;
pub mod ledger;
pub mod load;
pub mod model;
pub mod progress;
pub mod reconcile;
pub mod report;
pub mod validate;
