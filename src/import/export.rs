//! Reading an export file once, safely (no links followed, a size limit,
//! text checked), with its digest, and the two readers every format uses:
//! JSON values addressed by path, and CSV rows that know their line.

use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Finding, ImportCode};
use crate::diag::{Diagnostic, Severity, SourceFile, Span};

/// Exports larger than this are refused before they are read: a million
/// rows of the widest JSON layout stay well under it.
pub const MAX_EXPORT_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// One export file, read.
#[derive(Debug)]
pub struct Export {
    /// Its text, under the name it is shown by.
    pub file: Arc<SourceFile>,
    /// `sha256:` and the hex digest of its bytes as stored.
    pub digest: String,
    /// Its file name, as the manifest records it.
    pub name: String,
}

impl Export {
    /// Reads an export file; a refusal is a finding.
    pub fn read(path: &Path, max_bytes: u64) -> Result<Export, Box<Finding>> {
        let shown = crate::load::display_path(path);
        let bytes = crate::load::read_regular(path, max_bytes).map_err(|refused| {
            Box::new(Finding::new(
                ImportCode::ExportUnreadable,
                Severity::Error,
                format!("could not read export `{shown}`: {}", refused.reason()),
            ))
        })?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        let file = crate::load::text_file(shown, bytes)
            .map_err(|d| Box::new(d.map_code(|_| ImportCode::ExportNotText)))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.path.clone());
        Ok(Export { file, digest, name })
    }

    /// The export's name as findings show it.
    pub fn shown(&self) -> &str {
        &self.file.path
    }

    /// Parses the export as one JSON document.
    pub fn json(&self) -> Result<Value, Box<Finding>> {
        serde_json::from_str(&self.file.text).map_err(|e| self.malformed(&e))
    }

    /// The refusal of text that is not JSON.
    fn malformed(&self, e: &serde_json::Error) -> Box<Finding> {
        let (line, col) = (e.line().max(1) as u32, e.column().max(1) as u32);
        let what = if e.is_eof() {
            "ends early (truncated?)"
        } else {
            "is not well-formed JSON"
        };
        let message = e.to_string();
        let reason = message.split(" at line ").next().unwrap_or(&message);
        Box::new(
            Finding::new(
                ImportCode::ExportMalformed,
                Severity::Error,
                format!("`{}` {what}: {reason}", self.shown()),
            )
            .at(Span::at(&self.file, line, col, 1)),
        )
    }

    /// A finding about the value at `path` (`$[3].status`) of this export.
    pub fn at_path(&self, code: ImportCode, path: &str, message: impl AsRef<str>) -> Finding {
        Finding::new(
            code,
            Severity::Error,
            format!("`{}` at `{path}`: {}", self.shown(), message.as_ref()),
        )
    }
}

/// A JSON value and where it is in its export, for typed reads whose
/// refusals name the export and the path.
#[derive(Clone)]
pub struct At<'a> {
    /// The export.
    pub export: &'a Export,
    /// The value.
    pub value: &'a Value,
    path: String,
}

impl<'a> At<'a> {
    /// The top of an export.
    pub fn root(export: &'a Export, value: &'a Value) -> At<'a> {
        At {
            export,
            value,
            path: "$".to_string(),
        }
    }

    /// This value's JSON path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A finding about this value.
    pub fn finding(&self, code: ImportCode, message: impl AsRef<str>) -> Finding {
        self.export.at_path(code, &self.path, message)
    }

    /// A finding about field `key` of this value.
    pub fn field_finding(&self, key: &str, code: ImportCode, message: impl AsRef<str>) -> Finding {
        self.export
            .at_path(code, &format!("{}.{key}", self.path), message)
    }

    /// The items of this value, which must be an array.
    pub fn items(&self) -> Result<Vec<At<'a>>, Box<Finding>> {
        match self.value {
            Value::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, value)| At {
                    export: self.export,
                    value,
                    path: format!("{}[{i}]", self.path),
                })
                .collect()),
            other => Err(Box::new(self.finding(
                ImportCode::ExportShape,
                format!("expected a list, found {}", json_type(other)),
            ))),
        }
    }

    /// Field `key`: `None` when absent or null (unknown, never false).
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        match self.value.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// A string field; absent or null is `None`.
    pub fn str(&self, key: &str) -> Result<Option<&'a str>, Box<Finding>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(Box::new(self.field_finding(
                key,
                ImportCode::ExportShape,
                format!("expected a string, found {}", json_type(other)),
            ))),
        }
    }

    /// A string field that must be there.
    pub fn req_str(&self, key: &str) -> Result<&'a str, Box<Finding>> {
        match self.str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(Box::new(self.field_finding(
                key,
                ImportCode::ExportShape,
                format!("`{key}` is missing or empty"),
            ))),
        }
    }

    /// A string or number field read as text (ids are either, by source).
    pub fn key_text(&self, key: &str) -> Result<Option<String>, Box<Finding>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(Box::new(self.field_finding(
                key,
                ImportCode::ExportShape,
                format!("expected a string or number, found {}", json_type(other)),
            ))),
        }
    }

    /// A boolean field; absent or null is `None` (unknown).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, Box<Finding>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(Box::new(self.field_finding(
                key,
                ImportCode::ExportShape,
                format!("expected a boolean, found {}", json_type(other)),
            ))),
        }
    }

    /// An RFC 3339 instant; absent or null is `None`.
    pub fn time(&self, key: &str) -> Result<Option<Timestamp>, Box<Finding>> {
        let Some(text) = self.str(key)? else {
            return Ok(None);
        };
        parse_instant(text).map(Some).ok_or_else(|| {
            Box::new(self.field_finding(
                key,
                ImportCode::InvalidDate,
                format!("`{text}` is not an RFC 3339 date-time"),
            ))
        })
    }

    /// Field `key` as a nested value; `None` when absent or null.
    pub fn child(&self, key: &str) -> Option<At<'a>> {
        let value = self.get(key)?;
        Some(At {
            export: self.export,
            value,
            path: format!("{}.{key}", self.path),
        })
    }

    /// Field `key`, which must be an object; `None` when absent or null.
    pub fn object(&self, key: &str) -> Result<Option<At<'a>>, Box<Finding>> {
        match self.child(key) {
            None => Ok(None),
            Some(child) if child.value.is_object() => Ok(Some(child)),
            Some(child) => Err(Box::new(child.finding(
                ImportCode::ExportShape,
                format!("expected an object, found {}", json_type(child.value)),
            ))),
        }
    }

    /// A list of strings; absent or null is an empty list.
    pub fn strs(&self, key: &str) -> Result<Vec<&'a str>, Box<Finding>> {
        self.list(key)?
            .into_iter()
            .map(|item| match item.value {
                Value::String(s) => Ok(s.as_str()),
                other => Err(Box::new(item.finding(
                    ImportCode::ExportShape,
                    format!("expected a string, found {}", json_type(other)),
                ))),
            })
            .collect()
    }

    /// The items of field `key`, which must be a list; absent or null is
    /// no items.
    pub fn list(&self, key: &str) -> Result<Vec<At<'a>>, Box<Finding>> {
        match self.child(key) {
            None => Ok(Vec::new()),
            Some(child) => child.items(),
        }
    }
}

/// Parses an RFC 3339 date-time, or an ISO 8601 one with a `+00:00`-style
/// offset (both parse the same way in jiff).
pub fn parse_instant(text: &str) -> Option<Timestamp> {
    text.trim().parse::<Timestamp>().ok()
}

/// The JSON type of a value, as messages name it.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A CSV export's rows, each with the span of its line so that a refusal
/// points at the row.
pub struct Table {
    /// The header, as written.
    pub headers: Vec<String>,
    /// The rows.
    pub rows: Vec<Row>,
}

/// One CSV row.
pub struct Row {
    /// The cells.
    pub cells: Vec<String>,
    /// The byte range of the row's line in the file (its span is made
    /// only for a refusal: making one finds its line and column).
    pub range: std::ops::Range<usize>,
    /// That line's 1-based number.
    pub line: u32,
    /// Where each cell starts, as byte offsets into the file's text.
    pub starts: Vec<usize>,
}

impl Table {
    /// Reads a CSV export with a header row. Every row must have the
    /// header's number of fields.
    pub fn read(export: &Export) -> Result<Table, Box<Finding>> {
        let mut reader = Rows::open(export)?;
        let mut rows = Vec::new();
        while let Some(row) = reader.next_row()? {
            rows.push(row);
        }
        Ok(Table {
            headers: reader.headers,
            rows,
        })
    }
}

/// A CSV export read one row at a time, for an export too large to hold
/// as a [`Table`] beside what is made of it.
pub struct Rows<'e> {
    export: &'e Export,
    reader: csv::Reader<&'e [u8]>,
    record: csv::StringRecord,
    /// The newlines before `counted`: rows come in order, so each row's
    /// line number is counted on from the last (a lookup from the start
    /// of the file's nearest mark cost a tenth of a million-row import).
    newlines: usize,
    counted: usize,
    /// The header, as written.
    pub headers: Vec<String>,
}

impl<'e> Rows<'e> {
    /// Opens a CSV export with a header row, and reads the header.
    pub fn open(export: &'e Export) -> Result<Rows<'e>, Box<Finding>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(export.file.text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_malformed(export, &e))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        Ok(Rows {
            export,
            reader,
            record: csv::StringRecord::new(),
            newlines: 0,
            counted: 0,
            headers,
        })
    }

    /// The next row; every row must have the header's number of fields.
    pub fn next_row(&mut self) -> Result<Option<Row>, Box<Finding>> {
        let export = self.export;
        let text = &export.file.text;
        let record = &mut self.record;
        match self.reader.read_record(record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => return Err(csv_malformed(export, &e)),
        }
        let start = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
        let range = line_range(text, start);
        let start = start.min(text.len());
        if let Some(between) = text.as_bytes().get(self.counted..start) {
            self.newlines += between.iter().filter(|&&b| b == b'\n').count();
            self.counted = start;
        }
        let line = u32::try_from(self.newlines + 1).unwrap_or(u32::MAX);
        // Cell offsets: the first cell starts at the row; later ones are
        // found by their text, which is close enough to underline them.
        let mut starts = Vec::with_capacity(record.len());
        let mut at = start;
        for cell in record.iter() {
            let found = text
                .get(at..)
                .and_then(|rest| rest.find(cell))
                .map_or(at, |i| at + i);
            starts.push(found);
            at = found + cell.len();
        }
        Ok(Some(Row {
            cells: record.iter().map(str::to_string).collect(),
            range,
            line,
            starts,
        }))
    }
}

/// The refusal of a CSV export that does not parse.
fn csv_malformed(export: &Export, e: &csv::Error) -> Box<Finding> {
    let offset = e
        .position()
        .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "a row has {len} fields where the header has {expected_len} (broken quoting or a stray delimiter)"
        ),
        csv::ErrorKind::Utf8 { .. } => "a field is not UTF-8".to_string(),
        other => format!("{other:?}"),
    };
    Box::new(
        Finding::new(
            ImportCode::ExportMalformed,
            Severity::Error,
            format!("`{}` is not well-formed CSV: {reason}", export.shown()),
        )
        .at(line_span(&export.file, offset)),
    )
}

impl Row {
    /// The span of the row's line.
    pub fn span(&self, file: &Arc<SourceFile>) -> Span {
        Span::new(file, self.range.clone())
    }

    /// The span of cell `i`, or of the row when it has none.
    pub fn cell_span(&self, file: &Arc<SourceFile>, i: usize) -> Span {
        match (self.starts.get(i), self.cells.get(i)) {
            (Some(&start), Some(cell)) if !cell.is_empty() => {
                Span::new(file, start..start + cell.len())
            }
            _ => self.span(file),
        }
    }
}

/// The span of the line holding byte `offset`.
fn line_span(file: &Arc<SourceFile>, offset: usize) -> Span {
    Span::new(file, line_range(&file.text, offset))
}

/// The byte range of the line holding byte `offset`, without its newline.
fn line_range(text: &str, offset: usize) -> std::ops::Range<usize> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    start..end.max(start)
}

/// A finding at a place in a file.
pub fn finding_at(code: ImportCode, span: Span, message: impl Into<String>) -> Finding {
    Diagnostic::new(code, Severity::Error, message).at(span)
}

/// Reads every export as one JSON document, scans it for secrets, and turns
/// each item of the list `items` finds in it into a `T` (or nothing, for an
/// item the format skips). Every refusal of every export is collected, so
/// that one run names them all.
pub fn read_lists<T>(
    exports: &[Export],
    items: impl for<'a> Fn(&At<'a>) -> Result<Vec<At<'a>>, Box<Finding>>,
    mut read: impl for<'a> FnMut(&At<'a>, usize) -> Result<Option<T>, Box<Finding>>,
) -> Result<Vec<T>, Vec<Finding>> {
    let mut findings = Vec::new();
    let mut out = Vec::new();
    for (index, export) in exports.iter().enumerate() {
        read_list(export, index, &items, &mut read, &mut findings, &mut out);
    }
    if findings.is_empty() {
        Ok(out)
    } else {
        Err(findings)
    }
}

/// [`read_lists`] of one export.
fn read_list<T>(
    export: &Export,
    index: usize,
    items: impl for<'a> Fn(&At<'a>) -> Result<Vec<At<'a>>, Box<Finding>>,
    read: &mut impl for<'a> FnMut(&At<'a>, usize) -> Result<Option<T>, Box<Finding>>,
    findings: &mut Vec<Finding>,
    out: &mut Vec<T>,
) {
    let value = match export.json() {
        Ok(v) => v,
        Err(f) => {
            findings.push(*f);
            return;
        }
    };
    super::secrets::scan_json(export, &value, findings);
    match items(&At::root(export, &value)) {
        Ok(list) => {
            for item in list {
                match read(&item, index) {
                    Ok(Some(t)) => out.push(t),
                    Ok(None) => {}
                    Err(f) => findings.push(*f),
                }
            }
        }
        Err(f) => findings.push(*f),
    }
}

/// As [`read_lists`] for exports that are the list itself (a JSON array at
/// the top, as Okta's are), with the same refusals in the same order; an
/// array is read one item at a time, each dropped once it is mapped, so
/// that a large export is never held as one parsed tree.
pub fn read_top_lists<T>(
    exports: &[Export],
    mut read: impl for<'a> FnMut(&At<'a>, usize) -> Result<Option<T>, Box<Finding>>,
) -> Result<Vec<T>, Vec<Finding>> {
    let mut findings = Vec::new();
    let mut out = Vec::new();
    for (index, export) in exports.iter().enumerate() {
        let text = &export.file.text;
        // serde_json's whitespace; anything but an array is read whole, so
        // that its refusal is the one the whole document gets.
        if !text
            .trim_start_matches([' ', '\n', '\t', '\r'])
            .starts_with('[')
        {
            read_list(
                export,
                index,
                |root| root.items(),
                &mut read,
                &mut findings,
                &mut out,
            );
            continue;
        }
        let before = out.len();
        let mut list = Streamed {
            export,
            index,
            read: &mut read,
            out: &mut out,
            secrets: Vec::new(),
            refused: Vec::new(),
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed =
            serde::de::DeserializeSeed::deserialize(&mut list, &mut de).and_then(|()| de.end());
        match parsed {
            // As a whole document's: the secrets of every item, then every
            // item's refusal.
            Ok(()) => {
                findings.append(&mut list.secrets);
                findings.append(&mut list.refused);
            }
            // As a whole document's: the text's only refusal.
            Err(e) => {
                out.truncate(before);
                findings.push(*export.malformed(&e));
            }
        }
    }
    if findings.is_empty() {
        Ok(out)
    } else {
        Err(findings)
    }
}

/// The state of [`read_top_lists`] in one export, as serde's visitor.
struct Streamed<'r, T, F> {
    export: &'r Export,
    index: usize,
    read: &'r mut F,
    out: &'r mut Vec<T>,
    secrets: Vec<Finding>,
    refused: Vec<Finding>,
}

impl<'de, T, F> serde::de::DeserializeSeed<'de> for &mut Streamed<'_, T, F>
where
    F: for<'a> FnMut(&At<'a>, usize) -> Result<Option<T>, Box<Finding>>,
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T, F> serde::de::Visitor<'de> for &mut Streamed<'_, T, F>
where
    F: for<'a> FnMut(&At<'a>, usize) -> Result<Option<T>, Box<Finding>>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while let Some(value) = seq.next_element::<Value>()? {
            let mut path = format!("$[{i}]");
            super::secrets::scan_json_at(self.export, &value, &mut path, &mut self.secrets);
            let item = At {
                export: self.export,
                value: &value,
                path,
            };
            match (self.read)(&item, self.index) {
                Ok(Some(t)) => self.out.push(t),
                Ok(None) => {}
                Err(f) => self.refused.push(*f),
            }
            i += 1;
        }
        Ok(())
    }
}

/// The list under `key` of an export's top object; its absence means the
/// file is not the export `what` names.
pub fn list_at<'a>(root: &At<'a>, key: &str, what: &str) -> Result<Vec<At<'a>>, Box<Finding>> {
    match root.child(key) {
        Some(list) => list.items(),
        None => Err(Box::new(root.field_finding(
            key,
            ImportCode::ExportShape,
            format!("no `{key}` list: is this {what}?"),
        ))),
    }
}

/// Every export parsed as JSON and scanned for secrets, with its index, for
/// formats that read several kinds of list before they map any: the
/// parsed documents, and the refusals so far.
pub fn parse_all(exports: &[Export]) -> (Vec<(usize, &Export, Value)>, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut parsed = Vec::new();
    for (index, export) in exports.iter().enumerate() {
        match export.json() {
            Ok(v) => {
                super::secrets::scan_json(export, &v, &mut findings);
                parsed.push((index, export, v));
            }
            Err(f) => findings.push(*f),
        }
    }
    (parsed, findings)
}
