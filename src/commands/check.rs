//! `severance check` and `severance diff`: the merge gate and the reviewer's
//! view of a change. Both read the head (the working tree, or a revision)
//! and, with `--base`, a second revision from git, run the same pipeline on
//! each, and compare.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::Input;
use crate::check::baseline::{Base, Compared};
use crate::check::{Checked, Finding, Gate, Origin, Verdict};
use crate::diag::Severity;
use crate::diff::{DecisionDiff, Side};
use crate::error::{Error, ReportFile, Usage};
use crate::exit::ExitStatus;
use crate::load::Snapshot;
use crate::report::check::{CheckReport, RepoPaths, Revision};
use crate::report::diff::DiffReport;
use crate::report::junit::Dialect;
use crate::validate::PolicyPack;

/// The formats of a check report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Findings rendered like rustc, then a summary.
    Human,
    /// The versioned JSON document.
    Json,
    /// A pull request comment.
    Markdown,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// JUnit XML for CI test reports, as GitLab and most CI systems read it.
    Junit,
    /// JUnit XML valid against the strict `junit-10.xsd`.
    JunitStrict,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

/// One report to write: a format, and a file (or standard output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    /// The format.
    pub format: ReportFormat,
    /// The file; `None` is standard output.
    pub path: Option<PathBuf>,
}

/// Settings of `check`.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    /// The head: inventory, policies and the revision to read them at.
    pub input: Input,
    /// The base revision to compare with.
    pub base: Option<String>,
    /// The run's instant.
    pub as_of: Timestamp,
    /// The severity at which a finding fails the check.
    pub fail_on: Severity,
    /// Only findings new since the base fail the check.
    pub only_new: bool,
    /// The reports to write.
    pub reports: Vec<ReportTarget>,
    /// Where GitHub Actions wants the job summary (`$GITHUB_STEP_SUMMARY`).
    pub step_summary: Option<PathBuf>,
    /// The most results a SARIF log carries (`None`: every finding).
    pub sarif_max_results: Option<usize>,
}

/// Formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    /// For a terminal.
    Human,
    /// The versioned JSON document.
    Json,
    /// A pull request comment.
    Markdown,
}

/// Settings of `diff`.
#[derive(Debug, Clone)]
pub struct DiffSettings {
    /// The head.
    pub input: Input,
    /// The base revision.
    pub base: String,
    /// The run's instant.
    pub as_of: Timestamp,
    /// Output format.
    pub format: DiffFormat,
}

/// One side, decided.
struct Evaluated {
    revision: Revision,
    decided: super::Decided,
    /// Validation findings of a valid side (warnings).
    warnings: Vec<Finding>,
}

/// What loading one side gave: a decided side, or the findings that stop it.
enum Outcome {
    Evaluated(Box<Evaluated>),
    Invalid {
        revision: Revision,
        findings: Vec<Finding>,
    },
}

/// The input read at `revision` instead of its own.
fn at(input: &Input, revision: &str) -> Input {
    Input {
        revision: Some(Snapshot::Revision(revision.to_string())),
        ..input.clone()
    }
}

/// Loads, validates, evaluates and decides one side, keeping every finding
/// as data (nothing is written to the error stream).
fn evaluate_side(input: &Input, as_of: Timestamp) -> Result<Outcome, Error> {
    let (validation, commit) = super::load_input(input)?;
    let revision = match &input.revision {
        Some(snapshot) => Revision {
            label: snapshot.label().to_string(),
            commit,
        },
        None => Revision::working_tree(),
    };
    let findings: Vec<Finding> = validation
        .diagnostics
        .iter()
        .map(|d| Finding::from_diagnostic(d, Origin::Validation))
        .collect();
    Ok(match super::decide_valid(validation, as_of)? {
        Ok(decided) => Outcome::Evaluated(Box::new(Evaluated {
            revision,
            decided,
            warnings: findings,
        })),
        Err(_) => Outcome::Invalid { revision, findings },
    })
}

/// The check rules and waivers on a decided side, with its validation
/// warnings.
fn check_side(side: &Evaluated) -> Checked {
    let d = &side.decided;
    let mut checked = crate::check::check(&d.inventory, &d.pack, &d.evaluation, &d.plan);
    checked.findings.extend(side.warnings.iter().cloned());
    checked
}

/// A side that must validate to be compared with: its findings go to
/// `err`, and it is an error.
fn must_validate(
    outcome: Outcome,
    side: &'static str,
    err: &mut dyn Write,
) -> Result<Box<Evaluated>, Error> {
    match outcome {
        Outcome::Evaluated(e) => Ok(e),
        Outcome::Invalid { revision, findings } => {
            for f in &findings {
                writeln!(err, "{}", crate::report::check::render_one(f))?;
            }
            let errors = crate::check::errors(&findings);
            Err(crate::error::RevisionInvalid {
                side,
                revision: revision.label,
                errors,
                plural: if errors == 1 { "" } else { "s" },
            }
            .into())
        }
    }
}

fn decision_diff(base: &Evaluated, head: &Evaluated) -> DecisionDiff {
    crate::diff::diff(
        &Side {
            inventory: &base.decided.inventory,
            pack: &base.decided.pack,
            plan: &base.decided.plan,
        },
        &Side {
            inventory: &head.decided.inventory,
            pack: &head.decided.pack,
            plan: &head.decided.plan,
        },
    )
}

pub(super) fn run_diff(
    settings: &DiffSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let base = must_validate(
        evaluate_side(&at(&settings.input, &settings.base), settings.as_of)?,
        "base",
        err,
    )?;
    let head = must_validate(evaluate_side(&settings.input, settings.as_of)?, "head", err)?;
    let diff = decision_diff(&base, &head);
    let report = DiffReport {
        as_of: settings.as_of,
        base: base.revision.clone(),
        head: head.revision.clone(),
        diff: &diff,
    };
    let text = match settings.format {
        DiffFormat::Human => crate::report::diff::human(&report),
        DiffFormat::Json => crate::report::diff::json(&report),
        DiffFormat::Markdown => crate::report::markdown::diff(&report),
    };
    super::write_out(out, &text)?;
    let failed = base.decided.plan.summary.error > 0 || head.decided.plan.summary.error > 0;
    Ok(if failed {
        ExitStatus::CouldNotEvaluate
    } else {
        ExitStatus::Ok
    })
}

pub(super) fn run_check(
    settings: &CheckSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    check_targets(&settings.reports)?;
    let head = check_head(read_sides(settings)?);
    let report = report(&head, settings);
    write_reports(&report, settings, out, err)?;
    Ok(match report.verdict {
        Verdict::Pass => ExitStatus::Ok,
        Verdict::Fail => ExitStatus::Blocking,
        Verdict::CouldNotEvaluate => ExitStatus::CouldNotEvaluate,
    })
}

/// The head of a check, and what its base turned out to be.
struct Sides {
    head: Outcome,
    base: Option<BaseSide>,
}

/// The base of a check.
enum BaseSide {
    /// The revision, read.
    Read(Outcome),
    /// The parent of a repository's first commit, which does not exist.
    Unborn(Revision),
}

impl BaseSide {
    /// The revision, as reports name it.
    fn revision(&self) -> Revision {
        match self {
            BaseSide::Unborn(revision) | BaseSide::Read(Outcome::Invalid { revision, .. }) => {
                revision.clone()
            }
            BaseSide::Read(Outcome::Evaluated(base)) => base.revision.clone(),
        }
    }

    /// What the head's check is compared with, and the decision diff when
    /// both sides were decided.
    fn baseline(&self, head: &Evaluated) -> (Base<'_>, Option<DecisionDiff>) {
        match self {
            BaseSide::Unborn(_) => (Base::Unborn, None),
            BaseSide::Read(Outcome::Invalid { revision, findings }) => (
                Base::Invalid {
                    label: &revision.label,
                    findings,
                },
                None,
            ),
            BaseSide::Read(Outcome::Evaluated(base)) => (
                Base::Checked {
                    findings: check_side(base).findings,
                    waivers: &base.decided.inventory.waivers,
                },
                Some(decision_diff(base, head)),
            ),
        }
    }
}

/// Reads the head and, when the head can be checked, the base. A base that
/// does not validate leaves the check without a baseline, not without a
/// report.
fn read_sides(settings: &CheckSettings) -> Result<Sides, Error> {
    let head = evaluate_side(&settings.input, settings.as_of)?;
    let Some(base) = &settings.base else {
        return Ok(Sides { head, base: None });
    };
    // A repository's first commit has nothing before it: `HEAD` names no
    // commit yet, and everything the commit holds is new.
    if matches!(base.as_str(), "HEAD" | "@") && crate::load::unborn_head(&settings.input.inventory)
    {
        let unborn = Revision {
            label: format!("{base} (no commit yet)"),
            commit: None,
        };
        return Ok(Sides {
            head,
            base: Some(BaseSide::Unborn(unborn)),
        });
    }
    let base = match &head {
        Outcome::Evaluated(_) => Some(BaseSide::Read(evaluate_side(
            &at(&settings.input, base),
            settings.as_of,
        )?)),
        Outcome::Invalid { .. } => None,
    };
    Ok(Sides { head, base })
}

/// What the check found on the head, compared with its base.
struct CheckedHead {
    revision: Revision,
    base: Option<Revision>,
    checked: Checked,
    resolved: Vec<Finding>,
    diff: Option<DecisionDiff>,
    records: usize,
    pack: Option<PolicyPack>,
}

/// Checks the head and compares it with its base.
fn check_head(sides: Sides) -> CheckedHead {
    let base = sides.base.as_ref().map(BaseSide::revision);
    let head = match sides.head {
        Outcome::Evaluated(head) => head,
        Outcome::Invalid { revision, findings } => {
            return CheckedHead {
                revision,
                base,
                checked: Checked::invalid(findings),
                resolved: Vec::new(),
                diff: None,
                records: 0,
                pack: None,
            };
        }
    };
    let (baseline, diff) = sides.base.as_ref().map(|b| b.baseline(&head)).unzip();
    let Compared { checked, resolved } =
        crate::check::baseline::compare(check_side(&head), baseline);
    let Evaluated {
        revision, decided, ..
    } = *head;
    CheckedHead {
        revision,
        base,
        checked,
        resolved,
        diff: diff.flatten(),
        records: decided.inventory.records.len(),
        pack: Some(decided.pack),
    }
}

/// The report of a checked head, with the verdict at the settings' gate.
fn report<'a>(head: &'a CheckedHead, settings: &CheckSettings) -> CheckReport<'a> {
    let gate = Gate {
        fail_on: settings.fail_on,
        only_new: settings.only_new,
    };
    CheckReport {
        as_of: settings.as_of,
        head: head.revision.clone(),
        base: head.base.clone(),
        resolved: &head.resolved,
        gate,
        checked: &head.checked,
        diff: head.diff.as_ref(),
        rules: crate::report::check::rules(head.pack.as_ref()),
        records: head.records,
        inventory_dir: crate::load::display_path(&settings.input.inventory),
        verdict: gate.verdict(&head.checked),
        repo: repo_paths(&settings.input),
    }
}

/// Where the run is and the work tree it is in, for tools that want paths
/// relative to the repository.
fn repo_paths(input: &Input) -> Option<RepoPaths> {
    std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .ok()
        .zip(crate::load::work_tree_of(&input.inventory))
        .map(|(cwd, top)| RepoPaths { cwd, top })
}

/// Writes every report: files first, each whole or not at all; then the
/// job summary; then standard output.
fn write_reports(
    report: &CheckReport<'_>,
    settings: &CheckSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let mut to_stdout = None;
    for target in &settings.reports {
        let text = render(report, target.format, settings, err)?;
        match &target.path {
            Some(path) => write_report(path, &text)?,
            None => to_stdout = Some(text),
        }
    }
    if let Some(path) = &settings.step_summary
        && settings
            .reports
            .iter()
            .any(|t| t.format == ReportFormat::Github)
    {
        append_report(path, &crate::report::markdown::check(report))?;
    }
    if !settings.reports.iter().any(|t| t.path.is_none()) {
        // Standard output holds only a report; the verdict still reaches a person.
        writeln!(err, "{}", report.summary_line())?;
    }
    if let Some(text) = to_stdout {
        super::write_out(out, &text)?;
    }
    Ok(())
}

/// One report's text; what a format had to leave out is said on `err`.
fn render(
    report: &CheckReport<'_>,
    format: ReportFormat,
    settings: &CheckSettings,
    err: &mut dyn Write,
) -> Result<String, Error> {
    Ok(match format {
        ReportFormat::Human => crate::report::check::human(report),
        ReportFormat::Json => crate::report::check::json(report),
        ReportFormat::Markdown => crate::report::markdown::check(report),
        ReportFormat::Sarif => {
            let rendered = crate::report::sarif::render(report, settings.sarif_max_results);
            if rendered.left_out.total() > 0 {
                let total = report.findings().len();
                writeln!(
                    err,
                    "warning: {} (`--sarif-max-results {}`)",
                    crate::report::sarif::left_out_message(
                        &rendered.left_out,
                        total,
                        total - rendered.left_out.total()
                    ),
                    settings.sarif_max_results.unwrap_or(0)
                )?;
            }
            rendered.text
        }
        ReportFormat::Junit => crate::report::junit::render(report, Dialect::Common),
        ReportFormat::JunitStrict => crate::report::junit::render(report, Dialect::Strict),
        ReportFormat::Github => crate::report::github::render(report),
    })
}

/// At most one report on standard output, and no file named twice.
fn check_targets(targets: &[ReportTarget]) -> Result<(), Error> {
    if targets.iter().filter(|t| t.path.is_none()).count() > 1 {
        return Err(Usage {
            message: "more than one `--format` writes to standard output".into(),
            help: Some("give every format but one a file: `--format sarif=results.sarif`".into()),
        }
        .into());
    }
    let mut seen = HashSet::new();
    for path in targets.iter().filter_map(|t| t.path.as_ref()) {
        if !seen.insert(path) {
            return Err(Usage {
                message: format!("two reports would write `{}`", path.display()),
                help: None,
            }
            .into());
        }
    }
    Ok(())
}

fn report_error(path: &Path, e: std::io::Error) -> Error {
    ReportFile {
        path: path.display().to_string(),
        message: e.to_string(),
    }
    .into()
}

/// Writes a report to a temporary file beside `path` and renames it into
/// place, so a reader never sees half a report.
pub(super) fn write_report(path: &Path, text: &str) -> Result<(), Error> {
    write_atomically(path, text).map_err(|e| report_error(path, e))
}

/// Writes `text` to a temporary file beside `path`, fsyncs it and renames
/// it into place; the temporary file is removed when that fails.
pub(super) fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Appends to a file (the GitHub job summary is shared by a job's steps).
fn append_report(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| report_error(path, e))
}
