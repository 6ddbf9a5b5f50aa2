//! The stable codes of an import's refusals, documented in
//! docs/importers.md (a test keeps the two in step).

crate::diag::codes! {
    /// Why an export was refused; nothing is written when any is found.
    ImportCode;
    ExportUnreadable = "export-unreadable": "an export file could not be read: it is missing, a symbolic link, not a regular file or over the size limit"
        => "pass the export file itself, as a regular file the user running severance can read",
    ExportNotText = "export-not-text": "an export file is not UTF-8 (or UTF-16/32 with a byte-order mark)"
        => "export again as UTF-8; the message gives the offset of the first byte that does not decode",
    ExportMalformed = "export-malformed": "an export file is not well-formed JSON or CSV: broken quoting, a row with the wrong number of fields, truncated JSON"
        => "export again; a truncated file usually means the export or its download was cut short",
    ExportShape = "export-shape": "an export is well-formed but not in the layout the source writes: a required field or envelope is missing, or a value has the wrong type"
        => "check that the file is the export the command names (`severance import --help` lists each source's expected file) and that it was not edited",
    MissingColumn = "missing-column": "a CSV export lacks a column the import needs, or the column map names a header the file does not have"
        => "add the column to the report, or map it in the column map (`--columns`); the message suggests the nearest header",
    DuplicateKey = "duplicate-key": "two rows or objects of an export carry the same key (employee number and start, account id, serial, key id)"
        => "export again: a system of record never returns one key twice, so the file was concatenated or edited",
    UnknownValue = "unknown-value": "a status or other enumerated value is not one the source's mapping table knows"
        => "map the value in the column map (`values:`), or report it: an unmapped status is never guessed",
    InvalidDate = "invalid-date": "a date or time in an export does not parse in the source's documented format"
        => "export dates as the source documents them (ISO 8601); for a CSV, set `date_format` in the column map",
    SecretInExport = "secret-in-export": "an export carries secret material (a private key, a token or password value); severance never imports secrets"
        => "export without the secret (list endpoints never return it; a create response does) and rotate the secret, since it has been written to a file",
    ColumnMapInvalid = "column-map-invalid": "the column map (`--columns`) is not a valid map of canonical columns to headers"
        => "correct the column map at the line and column shown; docs/importers.md lists the canonical columns",
    JoinUnreadable = "join-unreadable": "a file of the inventory the import joins against does not parse, so a join could silently miss"
        => "fix the inventory file (`severance validate` shows the problem), then import again",
    OutputNotOwned = "output-not-owned": "the output directory holds a file the importer did not write; it never edits or removes a file a person wrote"
        => "give the import a directory of its own (`--out`), or move the hand-written file out of it",
}

impl std::fmt::Display for ImportCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/importers.md lists every refusal code (regenerate with
    /// `UPDATE_DOCS=1 cargo test`).
    #[test]
    fn the_importer_docs_list_every_refusal_code() {
        let mut table = String::from("| code | meaning | fix |\n|---|---|---|\n");
        for c in ImportCode::ALL {
            table.push_str(&format!(
                "| `{}` | {} | {} |\n",
                c.as_str(),
                c.description(),
                c.fix()
            ));
        }
        crate::model::tests::keep_in_step(
            "docs/importers.md",
            "<!-- import-codes:begin -->",
            "<!-- import-codes:end -->",
            table.trim_end(),
        );
    }
}

#[cfg(test)]
mod format_docs {
    /// docs/importers.md maps every format `severance import` reads.
    #[test]
    fn the_importer_docs_have_a_section_per_format() {
        let docs = include_str!("../../docs/importers.md");
        for source in crate::import::Source::ALL {
            let heading = format!("### `{}`:", source.name());
            assert!(
                docs.contains(&heading),
                "docs/importers.md lacks `{heading}`"
            );
        }
    }
}
