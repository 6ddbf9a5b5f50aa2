//! The one integration test binary: runs the real `severance` CLI on fixture
//! inventories and compares exit code, stdout and stderr with golden files.

mod audit;
mod gitops;
mod harness;
mod import;
mod invalid;
mod ledger;
mod ledger_crash;
mod ledger_schemas;
mod plan;
mod proof;
mod reconcile;
mod reconcile_fixtures;
mod replay;
mod report_schemas;
mod rules;
#[path = "../../src/report/sarif_schema.rs"]
mod sarif_schema;
mod scenarios;
