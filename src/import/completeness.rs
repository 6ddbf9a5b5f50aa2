//! Whether an import's exports prove themselves complete, from what the
//! formats put around their lists: a total to count the rows against, a
//! page cursor that ran out. Reconciliation acts on an absence (a record
//! no longer returned, a device the register lacks) only when the export
//! it is absent from was complete; without that proof it is reviewed.
//!
//! Only the envelopes are read here (the lists are counted, not kept), so
//! judging costs a scan of the text and no allocation per row.

use serde::Deserialize;
use serde::de::{IgnoredAny, SeqAccess, Visitor};

use super::Source;
use super::export::Export;

/// What the exports prove: complete, incomplete or unknown (`None`), and
/// how the importer knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completeness {
    /// Whether the exports are complete; `None` when the format cannot say.
    pub complete: Option<bool>,
    /// The evidence, in a few words.
    pub evidence: String,
}

/// How many items a list holds, counted without keeping them.
#[derive(Default)]
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Counter;
        impl<'de> Visitor<'de> for Counter {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        d.deserialize_seq(Counter)
    }
}

/// A Snipe-IT row, as far as telling hardware from users goes.
#[derive(Deserialize)]
struct Row {
    asset_tag: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct SnipeItPage {
    total: Option<u64>,
    #[serde(default)]
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct GraphPage {
    #[serde(rename = "@odata.nextLink")]
    next: Option<IgnoredAny>,
    #[serde(default)]
    value: Count,
}

#[derive(Deserialize)]
struct JamfPage {
    #[serde(rename = "totalCount")]
    total: Option<u64>,
    #[serde(default)]
    results: Count,
}

#[derive(Deserialize)]
struct GooglePage {
    #[serde(rename = "nextPageToken")]
    next: Option<IgnoredAny>,
}

/// "1 page", "3 pages".
fn pages_text(n: usize) -> String {
    if n == 1 {
        "1 page".into()
    } else {
        format!("{n} pages")
    }
}

fn unknown(why: &str) -> Completeness {
    Completeness {
        complete: None,
        evidence: why.to_string(),
    }
}

fn verdict(complete: bool, evidence: String) -> Completeness {
    Completeness {
        complete: Some(complete),
        evidence,
    }
}

/// Pages of the exports that parse as `T` (the format's readers have
/// already refused any that do not).
fn pages<'e, T: Deserialize<'e>>(exports: &'e [Export]) -> Vec<T> {
    exports
        .iter()
        .filter_map(|e| serde_json::from_str(&e.file.text).ok())
        .collect()
}

/// Judges the exports of one import.
pub fn judge(source: Source, exports: &[Export]) -> Completeness {
    match source {
        Source::SnipeIt => {
            let hardware: Vec<SnipeItPage> = pages::<SnipeItPage>(exports)
                .into_iter()
                .filter(|p| p.rows.iter().any(|r| r.asset_tag.is_some()))
                .collect();
            let rows: u64 = hardware.iter().map(|p| p.rows.len() as u64).sum();
            let totals: Vec<Option<u64>> = hardware.iter().map(|p| p.total).collect();
            match totals.first().copied().flatten() {
                Some(total) if totals.iter().all(|t| *t == Some(total)) => verdict(
                    rows == total,
                    format!("{rows} hardware rows of a `total` of {total}"),
                ),
                _ => unknown("no hardware page with a `total` to count against"),
            }
        }
        Source::Intune | Source::Entra => {
            let pages: Vec<GraphPage> = pages(exports);
            let open = pages.iter().filter(|p| p.next.is_some()).count();
            let items: u64 = pages.iter().map(|p| p.value.0).sum();
            verdict(
                !pages.is_empty() && open + 1 == pages.len(),
                format!(
                    "{} ({items} {}), {open} with an `@odata.nextLink` to a further page",
                    pages_text(pages.len()),
                    if items == 1 { "item" } else { "items" }
                ),
            )
        }
        Source::Jamf => {
            let pages: Vec<JamfPage> = pages(exports);
            let results: u64 = pages.iter().map(|p| p.results.0).sum();
            match pages.first().and_then(|p| p.total) {
                Some(total) if pages.iter().all(|p| p.total == Some(total)) => verdict(
                    results == total,
                    format!("{results} results of a `totalCount` of {total}"),
                ),
                _ => unknown("no `totalCount` to count against"),
            }
        }
        Source::GoogleWorkspace => {
            let pages: Vec<GooglePage> = pages(exports);
            let open = pages.iter().filter(|p| p.next.is_some()).count();
            verdict(
                !pages.is_empty() && open + 1 == pages.len(),
                format!(
                    "{}, {open} with a `nextPageToken` to a further page",
                    pages_text(pages.len())
                ),
            )
        }
        Source::AwsIam => {
            // The credential report lists every user of the account; a
            // truncated key page is refused by the import itself.
            verdict(
                true,
                "the credential report lists every IAM user; no key page is truncated".into(),
            )
        }
        Source::Okta
        | Source::HrCsv
        | Source::BambooHr
        | Source::Scim
        | Source::Baton
        | Source::GcpKeys
        | Source::GitHub => unknown("the export carries no count or cursor to prove it complete"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::testing::scratch_export;

    fn judged(source: Source, texts: &[&str]) -> Completeness {
        let exports: Vec<Export> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (dir, path) = scratch_export(&format!("page-{i}.json"), t);
                let export = Export::read(std::path::Path::new(&path), 1 << 20).expect("reads");
                drop(dir);
                export
            })
            .collect();
        judge(source, &exports)
    }

    #[test]
    fn snipe_it_counts_hardware_rows_against_the_total() {
        let whole = judged(
            Source::SnipeIt,
            &[
                r#"{"total": 2, "rows": [{"asset_tag": "A"}, {"asset_tag": "B"}]}"#,
                r#"{"total": 9, "rows": [{"id": 1}]}"#,
            ],
        );
        assert_eq!(whole.complete, Some(true), "{}", whole.evidence);
        let short = judged(
            Source::SnipeIt,
            &[r#"{"total": 3, "rows": [{"asset_tag": "A"}]}"#],
        );
        assert_eq!(short.complete, Some(false), "{}", short.evidence);
    }

    #[test]
    fn graph_pages_are_complete_when_only_the_last_has_no_next_link() {
        let first = r#"{"value": [{}], "@odata.nextLink": "https://graph.example/next"}"#;
        let last = r#"{"value": [{}]}"#;
        assert_eq!(judged(Source::Intune, &[first, last]).complete, Some(true));
        assert_eq!(judged(Source::Intune, &[first]).complete, Some(false));
    }

    #[test]
    fn jamf_counts_results_against_total_count() {
        assert_eq!(
            judged(Source::Jamf, &[r#"{"totalCount": 1, "results": [{}]}"#]).complete,
            Some(true)
        );
        assert_eq!(
            judged(Source::Jamf, &[r#"{"totalCount": 5, "results": [{}]}"#]).complete,
            Some(false)
        );
    }

    #[test]
    fn a_format_without_a_count_cannot_say() {
        assert_eq!(judged(Source::Okta, &["[]"]).complete, None);
    }
}
