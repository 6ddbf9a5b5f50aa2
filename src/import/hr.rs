//! HR: the canonical worker CSV (any HRIS report, through a column map) and
//! BambooHR's custom-report JSON. HR is the authority for employment: who
//! someone is (the employee number, never reused), their status and dates.
//! One CSV row is one employment; a rehire has a row per employment.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::export::{At, Export, Row, Rows, finding_at, list_at, read_lists};
use super::{Context, Finding, ImportCode, Observed, secrets};
use crate::diag::{Severity, did_you_mean};
use crate::model::{Kind, format_time};

/// The canonical columns, in documentation order; the first and the
/// `hire_date` are required.
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "employee_number",
        "the HR key, never reused (Workday `Employee_ID`)",
    ),
    (
        "source_record_id",
        "the HR system's own id of the worker (Workday WID)",
    ),
    (
        "worker_type",
        "`employee`, `contractor`, `intern` or `vendor`",
    ),
    (
        "status",
        "`pre_hire`, `active`, `on_leave`, `notice` or `terminated`; derived from the dates when empty",
    ),
    ("first_name", "given name"),
    ("last_name", "family name"),
    (
        "display_name",
        "the name shown; first and last name when empty",
    ),
    ("work_email", "work email"),
    ("user_name", "primary login"),
    (
        "manager_employee_number",
        "the line manager's employee number",
    ),
    ("department", "HR department"),
    (
        "team",
        "the severance team key (`platform` for `team/platform`)",
    ),
    ("previous_team", "the team before the last move"),
    ("moved_at", "when the person last moved team"),
    ("location", "office or site"),
    ("time_zone", "IANA time zone"),
    ("hire_date", "the employment's start (required)"),
    (
        "termination_date",
        "when the employment ends (Workday `Termination_Date`)",
    ),
    (
        "last_day_of_work",
        "the last day worked (Workday `Termination_Last_Day_of_Work`)",
    ),
    ("contract_end_date", "a contractor's engagement end"),
    (
        "termination_reason",
        "`voluntary`, `involuntary`, `end_of_contract`, `retirement`, `death` or `other`",
    ),
    (
        "termination_immediate",
        "an involuntary exit that takes effect at once",
    ),
    ("rehire_eligible", "whether HR allows a rehire"),
];

/// Without these a worker export cannot say who someone is, or that they
/// left.
const REQUIRED: [&str; 3] = ["employee_number", "hire_date", "termination_date"];

/// What HR is the authority for.
const AUTHORITATIVE: &[&str] = &[
    "status",
    "employee_number",
    "worker_type",
    "employments",
    "manager",
    "team",
    "department",
];

const WORKER_TYPES: &[&str] = &["employee", "contractor", "intern", "vendor"];
const STATUSES: &[&str] = &["pre_hire", "active", "on_leave", "notice", "terminated"];
const REASONS: &[&str] = &[
    "voluntary",
    "involuntary",
    "end_of_contract",
    "retirement",
    "death",
    "other",
];

/// A column map: which header holds each canonical column, how values
/// translate, and how dates are written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnMap {
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    date_format: Option<String>,
}

/// A date or an instant, as HR wrote it.
#[derive(Clone, Copy, Debug)]
enum When {
    Date(Date),
    Instant(Timestamp),
}

impl When {
    fn to_value(self) -> Value {
        Value::String(match self {
            When::Date(d) => d.to_string(),
            When::Instant(t) => format_time(t),
        })
    }

    /// The instant it ends: a date lasts the whole day (UTC).
    fn end(self) -> Timestamp {
        match self {
            When::Instant(t) => t,
            When::Date(d) => d
                .tomorrow()
                .ok()
                .and_then(|n| n.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
                .map_or(Timestamp::MAX, |z| z.timestamp()),
        }
    }

    fn start(self) -> Timestamp {
        match self {
            When::Instant(t) => t,
            When::Date(d) => d
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .map_or(Timestamp::MIN, |z| z.timestamp()),
        }
    }
}

/// One employment of one worker, whatever the export.
#[derive(Debug, Default)]
struct Employment {
    number: String,
    record_id: Option<String>,
    raw_status: Option<String>,
    status: Option<String>,
    worker_type: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
    user_name: Option<String>,
    manager: Option<String>,
    department: Option<String>,
    team: Option<String>,
    previous_team: Option<String>,
    moved_at: Option<When>,
    location: Option<String>,
    time_zone: Option<String>,
    start: Option<When>,
    termination: Option<When>,
    last_day: Option<When>,
    contract_end: Option<When>,
    reason: Option<String>,
    immediate: Option<bool>,
    rehire_eligible: Option<bool>,
    export: usize,
    /// Where the row is, as a refusal names it.
    place: Place,
}

/// Where an employment was read, kept small (a line number, not the
/// text of a refusal that is almost never made) for a CSV row.
#[derive(Debug)]
enum Place {
    /// A CSV export's line.
    Line(u32),
    /// A JSON export's item, as a refusal names it.
    Named(String),
}

impl Default for Place {
    fn default() -> Self {
        Place::Line(0)
    }
}

impl Employment {
    /// Where it was read, as a refusal names it.
    fn place(&self, exports: &[Export]) -> String {
        match &self.place {
            Place::Line(line) => {
                let shown = exports.get(self.export).map_or("", Export::shown);
                format!("`{shown}` line {line}")
            }
            Place::Named(place) => place.clone(),
        }
    }
}

/// Reads worker CSVs.
pub fn read_csv(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let map = match ctx.columns {
        Some(file) => parse_map(file).map_err(|f| vec![*f])?,
        None => ColumnMap::default(),
    };
    let mut findings = Vec::new();
    // About a row a line: growing a vector of a million employments by
    // doubling copies and touches twice the memory.
    let lines: usize = ctx
        .exports
        .iter()
        .map(|e| e.file.text.bytes().filter(|&b| b == b'\n').count())
        .sum();
    let mut employments = Vec::with_capacity(lines);
    for (index, export) in ctx.exports.iter().enumerate() {
        read_export(export, index, &map, &mut employments, &mut findings);
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    people(ctx, employments)
}

/// How many refusals of rows a run collects before it stops reading rows.
const MAX_ROW_REFUSALS: usize = 100;

/// Reads one worker CSV a row at a time (a million rows are never held
/// as a table beside their employments), refusing it as a whole read
/// would: a malformed file with that alone; else every secret, then the
/// missing columns or the rows' refusals, until the run has
/// [`MAX_ROW_REFUSALS`] refusals.
fn read_export(
    export: &Export,
    index: usize,
    map: &ColumnMap,
    employments: &mut Vec<Employment>,
    findings: &mut Vec<Finding>,
) {
    let mut rows = match Rows::open(export) {
        Ok(rows) => rows,
        Err(f) => {
            findings.push(*f);
            return;
        }
    };
    let columns = locate_columns(export, &rows.headers, map);
    let before = employments.len();
    let mut secrets = Vec::new();
    let mut refused = Vec::new();
    let mut first_refused = false;
    let mut first = true;
    loop {
        let row = match rows.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(f) => {
                employments.truncate(before);
                findings.push(*f);
                return;
            }
        };
        secrets::scan_row(export, &rows.headers, &row, &mut secrets);
        if let Ok(columns) = &columns
            && refused.len() < MAX_ROW_REFUSALS
        {
            match read_row(export, &row, columns, map, index) {
                Ok(e) => employments.push(e),
                Err(f) => {
                    first_refused |= first;
                    refused.push(*f);
                }
            }
        }
        first = false;
    }
    findings.append(&mut secrets);
    if let Err(mut f) = columns {
        findings.append(&mut f);
        return;
    }
    // Rows are read until the run holds the most refusals it reports, and
    // at least one row is read.
    let room = MAX_ROW_REFUSALS.saturating_sub(findings.len());
    let kept = if room == 0 {
        usize::from(first_refused)
    } else {
        refused.len().min(room)
    };
    refused.truncate(kept);
    findings.append(&mut refused);
}

fn parse_map(file: &Export) -> Result<ColumnMap, Box<Finding>> {
    let map: ColumnMap = serde_saphyr::from_str(&file.file.text).map_err(|e| {
        let message = e.to_string();
        Box::new(Finding::new(
            ImportCode::ColumnMapInvalid,
            Severity::Error,
            format!(
                "column map `{}`: {}",
                file.shown(),
                message.lines().next().unwrap_or("")
            ),
        ))
    })?;
    for name in map.columns.keys().chain(map.values.keys()) {
        if !COLUMNS.iter().any(|(c, _)| c == name) {
            let mut f = Finding::new(
                ImportCode::ColumnMapInvalid,
                Severity::Error,
                format!(
                    "column map `{}` names `{name}`, which is not a canonical column",
                    file.shown()
                ),
            );
            if let Some(close) = did_you_mean(name, COLUMNS.iter().map(|(c, _)| *c)) {
                f = f.help(format!("did you mean `{close}`?"));
            }
            return Err(Box::new(f));
        }
    }
    Ok(map)
}

/// Each canonical column's position in the file, if it has one. The
/// required columns, and every column the map names, must be there; the
/// ones missing are refused together.
fn locate_columns(
    export: &Export,
    headers: &[String],
    map: &ColumnMap,
) -> Result<BTreeMap<&'static str, usize>, Vec<Finding>> {
    let header_span =
        crate::diag::Span::at(&export.file, 1, 1, export.file.text.find('\n').unwrap_or(0));
    let mut located = BTreeMap::new();
    let mut missing = Vec::new();
    for (name, _) in COLUMNS {
        let header = map.columns.get(*name).map_or(*name, String::as_str);
        match headers.iter().position(|h| h == header) {
            Some(i) => {
                located.insert(*name, i);
            }
            None if map.columns.contains_key(*name) || REQUIRED.contains(name) => {
                missing.push((*name, header));
            }
            None => {}
        }
    }
    let Some(&(first_name, first_header)) = missing.first() else {
        return Ok(located);
    };
    // A suggestion is a header that is not already some other column's.
    let spare = headers
        .iter()
        .map(String::as_str)
        .filter(|h| !COLUMNS.iter().any(|(c, _)| c == h) && !map.columns.values().any(|v| v == h));
    let headers: Vec<String> = missing.iter().map(|(_, h)| format!("`{h}`")).collect();
    let message = if missing.len() == 1 {
        format!("`{}` has no column `{first_header}`", export.shown())
    } else {
        format!(
            "`{}` lacks {} columns the import needs: {}",
            export.shown(),
            missing.len(),
            headers.join(", ")
        )
    };
    let help = match did_you_mean(first_header, spare) {
        Some(close) => format!(
            "did you mean `{close}`? map it with `{first_name}: {close}` under `columns:` in a column map (`--columns`)"
        ),
        None => {
            let what = COLUMNS
                .iter()
                .find(|(c, _)| *c == first_name)
                .map_or("", |(_, d)| *d);
            format!(
                "`{first_name}` holds {what}; if the report calls a column something else, name it in a column map (`--columns`)"
            )
        }
    };
    Err(vec![
        finding_at(ImportCode::MissingColumn, header_span, message)
            .label("the header")
            .help(help),
    ])
}

fn read_row(
    export: &Export,
    row: &Row,
    columns: &BTreeMap<&'static str, usize>,
    map: &ColumnMap,
    index: usize,
) -> Result<Employment, Box<Finding>> {
    let file = &export.file;
    let line = row.line;
    // A cell, translated through the map's values; empty is `None`.
    let cell = |name: &str| -> Option<(String, usize)> {
        let &i = columns.get(name)?;
        let raw = row.cells.get(i)?.trim();
        if raw.is_empty() {
            return None;
        }
        let value = map
            .values
            .get(name)
            .and_then(|v| v.get(raw))
            .cloned()
            .unwrap_or_else(|| raw.to_string());
        Some((value, i))
    };
    let text = |name: &str| cell(name).map(|(v, _)| v);
    let word = |name: &str, allowed: &[&str]| -> Result<Option<String>, Box<Finding>> {
        let Some((value, i)) = cell(name) else {
            return Ok(None);
        };
        let lower = value.to_lowercase();
        if allowed.contains(&lower.as_str()) {
            return Ok(Some(lower));
        }
        Err(Box::new(
            finding_at(
                ImportCode::UnknownValue,
                row.cell_span(file, i),
                format!("`{}` line {line}: `{value}` is not a known `{name}`", export.shown()),
            )
            .help(format!(
                "`{name}` is {}; map the export's word under `values: {{{name}: …}}` in a column map",
                crate::model::quote_list(allowed)
            )),
        ))
    };
    let when = |name: &str| -> Result<Option<When>, Box<Finding>> {
        let Some((value, i)) = cell(name) else {
            return Ok(None);
        };
        parse_when(&value, map.date_format.as_deref()).map(Some).ok_or_else(|| {
            Box::new(
                finding_at(
                    ImportCode::InvalidDate,
                    row.cell_span(file, i),
                    format!("`{}` line {line}: `{name}` `{value}` is not a date", export.shown()),
                )
                .help("write dates as `YYYY-MM-DD` or RFC 3339, or set `date_format` (e.g. `%m/%d/%Y`) in the column map"),
            )
        })
    };
    let flag = |name: &str| -> Result<Option<bool>, Box<Finding>> {
        let Some((value, i)) = cell(name) else {
            return Ok(None);
        };
        match value.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(Some(true)),
            "false" | "no" | "n" | "0" => Ok(Some(false)),
            _ => Err(Box::new(finding_at(
                ImportCode::UnknownValue,
                row.cell_span(file, i),
                format!(
                    "`{}` line {line}: `{name}` `{value}` is not true or false",
                    export.shown()
                ),
            ))),
        }
    };
    let number = text("employee_number").ok_or_else(|| {
        Box::new(finding_at(
            ImportCode::ExportShape,
            row.span(file),
            format!(
                "`{}` line {line}: the row has no employee number",
                export.shown()
            ),
        ))
    })?;
    let start = when("hire_date")?.ok_or_else(|| {
        Box::new(finding_at(
            ImportCode::ExportShape,
            row.span(file),
            format!(
                "`{}` line {line}: `{number}` has no hire date",
                export.shown()
            ),
        ))
    })?;
    let display_name =
        text("display_name").or_else(|| match (text("first_name"), text("last_name")) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (f, l) => f.or(l),
        });
    Ok(Employment {
        raw_status: columns
            .get("status")
            .and_then(|&i| row.cells.get(i))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        status: word("status", STATUSES)?,
        worker_type: word("worker_type", WORKER_TYPES)?,
        record_id: text("source_record_id"),
        display_name,
        email: text("work_email"),
        user_name: text("user_name"),
        manager: text("manager_employee_number"),
        department: text("department"),
        team: text("team"),
        previous_team: text("previous_team"),
        moved_at: when("moved_at")?,
        location: text("location"),
        time_zone: text("time_zone"),
        start: Some(start),
        termination: when("termination_date")?,
        last_day: when("last_day_of_work")?,
        contract_end: when("contract_end_date")?,
        reason: word("termination_reason", REASONS)?,
        immediate: flag("termination_immediate")?,
        rehire_eligible: flag("rehire_eligible")?,
        number,
        export: index,
        place: Place::Line(line),
    })
}

fn parse_when(text: &str, format: Option<&str>) -> Option<When> {
    let text = text.trim();
    if let Some(format) = format
        && let Ok(d) = Date::strptime(format, text)
    {
        return Some(When::Date(d));
    }
    if text.len() == 10 {
        return text.parse::<Date>().ok().map(When::Date);
    }
    super::export::parse_instant(text).map(When::Instant)
}

/// Turns employments into people: each worker's rows, oldest first, make
/// its employment history; the latest row says who they are now.
fn people(
    ctx: &mut Context<'_>,
    employments: Vec<Employment>,
) -> Result<Vec<Observed>, Vec<Finding>> {
    let mut by_number: BTreeMap<String, Vec<Employment>> = BTreeMap::new();
    for e in employments {
        // Most workers have one employment: a default `Vec` of so large a
        // struct would reserve four.
        by_number
            .entry(e.number.clone())
            .or_insert_with(|| Vec::with_capacity(1))
            .push(e);
    }
    let mut findings = Vec::new();
    for (number, rows) in &mut by_number {
        rows.sort_by_key(|e| e.start.map(When::start));
        for pair in rows.windows(2) {
            let problem = if pair[0].start.map(When::start) == pair[1].start.map(When::start) {
                Some("two employments starting on the same day")
            } else if pair[0].record_id.is_some()
                && pair[1].record_id.is_some()
                && pair[0].record_id != pair[1].record_id
            {
                Some("two workers (different HR record ids)")
            } else if pair[0].termination.is_none() && pair[0].last_day.is_none() {
                Some("an employment that never ended before a later one started")
            } else {
                None
            };
            if let Some(problem) = problem {
                findings.push(
                    Finding::new(
                        ImportCode::DuplicateKey,
                        Severity::Error,
                        format!(
                            "employee number `{number}` has {problem}: {} and {}",
                            pair[0].place(ctx.exports),
                            pair[1].place(ctx.exports)
                        ),
                    )
                    .help("an employee number is never reused: a rehire is a second row with a later hire date after the first employment's end; anything else means two workers share a number or the report was concatenated"),
                );
            }
        }
        let latest = rows.last().expect("grouped rows are never empty");
        ctx.directory
            .add_person(number, latest.email.as_deref(), &format!("person/{number}"));
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    let mut out = Vec::new();
    for (number, rows) in by_number {
        let Some(latest) = rows.last() else { continue };
        let status = latest
            .status
            .clone()
            .unwrap_or_else(|| derived_status(latest, ctx.observed_at).to_string());
        let mut o = Observed::record(
            Kind::Person,
            format!("person/{number}"),
            &status,
            latest.record_id.clone().unwrap_or_else(|| number.clone()),
            latest.export,
        );
        o.raw_status = latest.raw_status.clone();
        o.authoritative_for = AUTHORITATIVE;
        o.text("display_name", latest.display_name.as_deref())
            .text("employee_number", Some(&number))
            .text("user_name", latest.user_name.as_deref())
            .text("email", latest.email.as_deref())
            .text("worker_type", latest.worker_type.as_deref())
            .text(
                "team",
                latest
                    .team
                    .as_deref()
                    .map(|t| format!("team/{t}"))
                    .as_deref(),
            )
            .text(
                "previous_team",
                latest
                    .previous_team
                    .as_deref()
                    .map(|t| format!("team/{t}"))
                    .as_deref(),
            )
            .text("department", latest.department.as_deref());
        if let Some(m) = &latest.moved_at {
            o.value("moved_at", m.to_value());
        }
        if let Some(manager) = latest
            .manager
            .as_deref()
            .and_then(|m| ctx.directory.person_by_number(m))
        {
            o.text("manager", Some(manager));
        }
        o.text("location", latest.location.as_deref())
            .text("time_zone", latest.time_zone.as_deref());
        o.value(
            "employments",
            Value::Array(rows.iter().map(employment).collect()),
        );
        out.push(o);
    }
    Ok(out)
}

/// Status from the dates, when HR gave none: a start in the future is a
/// pre-hire; an end passed is a termination, one to come a notice period.
fn derived_status(e: &Employment, now: Timestamp) -> &'static str {
    let end = match (e.termination, e.last_day) {
        (Some(t), Some(l)) => Some(t.end().min(l.end())),
        (t, l) => t.or(l).map(When::end),
    };
    match (e.start, end) {
        (Some(s), _) if s.start() > now => "pre_hire",
        (_, Some(end)) if end <= now => "terminated",
        (_, Some(_)) => "notice",
        _ => "active",
    }
}

fn employment(e: &Employment) -> Value {
    let mut m = Map::new();
    if let Some(s) = e.start {
        m.insert("start".into(), s.to_value());
    }
    if let Some(c) = e.contract_end {
        m.insert("contract_end".into(), c.to_value());
    }
    let mut t = Map::new();
    if let Some(x) = e.termination {
        t.insert("effective".into(), x.to_value());
    }
    if let Some(x) = e.last_day {
        t.insert("last_day_of_work".into(), x.to_value());
    }
    if let Some(r) = &e.reason {
        t.insert("reason_category".into(), Value::String(r.clone()));
    }
    if let Some(i) = e.immediate {
        t.insert("immediate".into(), Value::Bool(i));
    }
    if let Some(r) = e.rehire_eligible {
        t.insert("rehire_eligible".into(), Value::Bool(r));
    }
    if !t.is_empty() {
        m.insert("termination".into(), Value::Object(t));
    }
    Value::Object(m)
}

/// Reads BambooHR custom reports (`POST /v1/reports/custom`, JSON).
/// BambooHR writes an empty date as `0000-00-00`; it is unknown, not a
/// date. Inactive employees are in the report only when it asks for them.
pub fn read_bamboohr(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let employments = read_lists(
        ctx.exports,
        |root| list_at(root, "employees", "a BambooHR custom report"),
        |row, index| bamboohr_row(row, index).map(Some),
    )?;
    people(ctx, employments)
}

fn bamboohr_row(row: &At<'_>, index: usize) -> Result<Employment, Box<Finding>> {
    let date = |key: &str| -> Result<Option<When>, Box<Finding>> {
        match row.str(key)? {
            None | Some("") | Some("0000-00-00") => Ok(None),
            Some(text) => parse_when(text, None).map(Some).ok_or_else(|| {
                Box::new(row.field_finding(
                    key,
                    ImportCode::InvalidDate,
                    format!("`{text}` is not a date"),
                ))
            }),
        }
    };
    let number = row.key_text("employeeNumber")?.ok_or_else(|| {
        Box::new(row.field_finding(
            "employeeNumber",
            ImportCode::ExportShape,
            "the employee has no `employeeNumber`",
        ))
    })?;
    let raw = row.str("status")?;
    let termination = date("terminationDate")?;
    let status = match raw {
        Some("Active") => None,
        Some("Inactive") => Some("terminated".to_string()),
        Some(other) => {
            return Err(Box::new(row.field_finding(
                "status",
                ImportCode::UnknownValue,
                format!("`{other}` is not a BambooHR status (`Active` or `Inactive`)"),
            )));
        }
        None => {
            return Err(Box::new(row.field_finding(
                "status",
                ImportCode::ExportShape,
                "the report has no `status`: add the field, so that a leaver is not read as active",
            )));
        }
    };
    let worker_type = row.str("employmentHistoryStatus")?.and_then(|s| {
        let s = s.to_lowercase();
        if s.contains("contract") {
            Some("contractor".to_string())
        } else if s.contains("intern") {
            Some("intern".to_string())
        } else if s.contains("full") || s.contains("part") {
            Some("employee".to_string())
        } else {
            None
        }
    });
    let display_name = match (row.str("firstName")?, row.str("lastName")?) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (f, l) => f.or(l).map(str::to_string),
    };
    Ok(Employment {
        record_id: row.key_text("id")?,
        raw_status: raw.map(str::to_string),
        status,
        worker_type,
        display_name,
        email: row.str("workEmail")?.map(str::to_string),
        manager: row.key_text("supervisorEId")?,
        department: row.str("department")?.map(str::to_string),
        location: row.str("location")?.map(str::to_string),
        start: Some(date("hireDate")?.ok_or_else(|| {
            Box::new(row.field_finding(
                "hireDate",
                ImportCode::ExportShape,
                "the employee has no `hireDate`",
            ))
        })?),
        termination,
        number,
        export: index,
        place: Place::Named(format!("`{}` at `{}`", row.export.shown(), row.path())),
        ..Employment::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("an instant")
    }

    fn employment(start: &str, end: Option<&str>, last: Option<&str>) -> Employment {
        Employment {
            start: parse_when(start, None),
            termination: end.and_then(|e| parse_when(e, None)),
            last_day: last.and_then(|e| parse_when(e, None)),
            ..Employment::default()
        }
    }

    #[test]
    fn status_is_derived_from_the_dates_when_hr_gives_none() {
        let now = at("2026-11-24T06:00:00Z");
        let cases = [
            (employment("2027-01-04", None, None), "pre_hire"),
            (employment("2020-01-01", None, None), "active"),
            (employment("2020-01-01", Some("2026-12-10"), None), "notice"),
            // The earlier of the two ends counts: the last day has passed.
            (
                employment("2020-01-01", Some("2026-12-10"), Some("2026-11-20")),
                "terminated",
            ),
            // A date lasts its whole day.
            (employment("2020-01-01", Some("2026-11-24"), None), "notice"),
            (
                employment("2020-01-01", Some("2026-11-23"), None),
                "terminated",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(derived_status(&e, now), want, "{e:?}");
        }
    }

    #[test]
    fn a_date_format_reads_us_dates_and_iso_still_works() {
        assert!(matches!(
            parse_when("11/24/2026", Some("%m/%d/%Y")),
            Some(When::Date(_))
        ));
        assert!(matches!(
            parse_when("2026-11-24", Some("%m/%d/%Y")),
            Some(When::Date(_))
        ));
        assert!(matches!(
            parse_when("2026-11-25T08:00:00Z", None),
            Some(When::Instant(_))
        ));
        assert!(parse_when("24.11.2026", None).is_none());
    }

    #[test]
    fn a_rehire_keeps_both_employments_oldest_first() {
        let (_, written) = crate::import::testing::run(
            crate::import::Source::HrCsv,
            &["tests/fixtures/import/hr/rehire-two-rows.csv"],
            None,
        );
        let first = written
            .find("start: \"2021-02-01\"")
            .expect("the first employment");
        let second = written.find("start: \"2026-11-02\"").expect("the second");
        assert!(first < second, "{written}");
    }
}
