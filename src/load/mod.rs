//! Stage 1, load: read the inventory's YAML files and the policy files from
//! disk, each exactly once, into raw trees that still know their positions.
//! Nothing here judges content; problems reading or parsing are findings.

pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{Code, Diagnostic, SourceFile, Span};
use crate::error::{Error, NotADirectory, ReadDir};
pub use yaml::Limits;
use yaml::{Node, NodeValue};

/// What to read.
#[derive(Clone, Debug)]
pub struct Sources {
    /// Directory holding the inventory (searched recursively for `*.yaml`, `*.yml`).
    pub inventory: PathBuf,
    /// Directory holding `schema.cedarschema` and `*.cedar`.
    pub policies: PathBuf,
    /// Parser limits.
    pub limits: Limits,
}

/// One candidate record: a mapping found at the top of a document or as an
/// item of a top-level list.
#[derive(Debug)]
pub struct RawRecord {
    /// The file it is in.
    pub file: Arc<SourceFile>,
    /// The YAML tree.
    pub node: Node,
}

/// Everything read from the inventory directory, unjudged.
#[derive(Debug, Default)]
pub struct RawInventory {
    /// The files read, sorted by path.
    pub files: Vec<Arc<SourceFile>>,
    /// Candidate records in file order.
    pub records: Vec<RawRecord>,
    /// Problems reading or parsing.
    pub diagnostics: Vec<Diagnostic>,
}

/// The policy directory's files, unparsed.
#[derive(Debug)]
pub struct PolicySources {
    /// `schema.cedarschema`.
    pub schema: Arc<SourceFile>,
    /// Every `*.cedar` file, sorted by path.
    pub policies: Vec<Arc<SourceFile>>,
}

/// The output of the load stage.
#[derive(Debug)]
pub struct Loaded {
    /// The inventory.
    pub inventory: RawInventory,
    /// The policies.
    pub policies: PolicySources,
}

/// Reads the inventory and the policy pack.
///
/// `Err` means a directory could not be read at all; unreadable or malformed
/// files are diagnostics in the result.
pub fn load(sources: &Sources) -> Result<Loaded, Error> {
    let inventory = load_inventory(&sources.inventory, &sources.limits)?;
    let policies = load_policies(&sources.policies)?;
    Ok(Loaded {
        inventory,
        policies,
    })
}

/// Walks a directory in name order, following symbolic links (walkdir
/// refuses loops) and skipping hidden files and directories entirely.
fn walk(dir: &Path) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> {
    walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
}

fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn require_dir(path: &Path) -> Result<(), Error> {
    if path.is_dir() {
        Ok(())
    } else {
        Err(NotADirectory {
            path: display_path(path),
        }
        .into())
    }
}

/// Reads every YAML file under `dir` (in parallel) and splits it into records.
pub fn load_inventory(dir: &Path, limits: &Limits) -> Result<RawInventory, Error> {
    require_dir(dir)?;
    let mut paths = Vec::new();
    for entry in walk(dir) {
        let entry = entry.map_err(|e| ReadDir {
            path: display_path(e.path().unwrap_or(dir)),
            message: e.to_string(),
        })?;
        let path = entry.path();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if entry.file_type().is_file() && is_yaml {
            paths.push(path.to_path_buf());
        }
    }
    paths.sort();

    crate::progress::stage("reading", paths.len() as u64);
    let parsed: Vec<FileRead> = paths
        .par_iter()
        .map(|path| {
            let read = read_yaml_file(path, limits);
            crate::progress::advance(1);
            read
        })
        .collect();

    let mut inventory = RawInventory::default();
    for read in parsed {
        inventory.files.extend(read.file);
        inventory.records.extend(read.records);
        inventory.diagnostics.extend(read.diagnostics);
    }
    Ok(inventory)
}

/// What reading one file gave.
struct FileRead {
    file: Option<Arc<SourceFile>>,
    records: Vec<RawRecord>,
    diagnostics: Vec<Diagnostic>,
}

impl FileRead {
    fn failed(d: Diagnostic) -> FileRead {
        FileRead {
            file: None,
            records: Vec::new(),
            diagnostics: vec![d],
        }
    }
}

fn read_yaml_file(path: &Path, limits: &Limits) -> FileRead {
    let shown = display_path(path);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > limits.max_file_bytes {
        let d = Diagnostic::error(
            Code::YamlLimit,
            format!(
                "`{shown}` is {size} bytes, over the limit of {} bytes",
                limits.max_file_bytes
            ),
        )
        .help("split the file; records may live in any number of files");
        return FileRead::failed(d);
    }
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let d = Diagnostic::error(
                    Code::ReadFailed,
                    format!(
                        "`{shown}` is not UTF-8 (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                );
                return FileRead::failed(d);
            }
        },
        Err(e) => {
            let d = Diagnostic::error(Code::ReadFailed, format!("could not read `{shown}`: {e}"));
            return FileRead::failed(d);
        }
    };
    let file = SourceFile::new(shown, text);
    let mut records = Vec::new();
    let mut diagnostics = Vec::new();
    match yaml::parse_documents(&file.text, limits) {
        Ok(documents) => {
            for document in documents {
                split_records(&file, document, &mut records, &mut diagnostics);
            }
        }
        Err(e) => {
            let code = if e.limit {
                Code::YamlLimit
            } else {
                Code::YamlSyntax
            };
            let mut d = Diagnostic::error(code, e.message);
            if e.limit {
                d = d.help("limits on size, nodes and aliases keep crafted input (such as an alias bomb) from exhausting memory; split large files");
            }
            if let Some((line, col)) = e.line_col {
                d = d.at(Span::at(&file, line, col, 0));
            }
            diagnostics.push(d);
        }
    }
    FileRead {
        file: Some(file),
        records,
        diagnostics,
    }
}

fn split_records(
    file: &Arc<SourceFile>,
    document: Node,
    records: &mut Vec<RawRecord>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match document.value {
        NodeValue::Map(_) => records.push(RawRecord {
            file: Arc::clone(file),
            node: document,
        }),
        NodeValue::Seq(items) => {
            for item in items {
                if let NodeValue::Map(_) = item.value {
                    records.push(RawRecord {
                        file: Arc::clone(file),
                        node: item,
                    });
                } else {
                    diagnostics.push(not_a_record(file, &item));
                }
            }
        }
        NodeValue::Null => {}
        _ => diagnostics.push(not_a_record(file, &document)),
    }
}

fn not_a_record(file: &Arc<SourceFile>, node: &Node) -> Diagnostic {
    Diagnostic::error(
        Code::NotARecord,
        format!(
            "expected a record (a mapping), found {}",
            node.value.type_name()
        ),
    )
    .at(node_span(file, node))
    .help("a file holds one record, a list of records, or several `---` documents")
}

/// The span of a node in its file.
pub fn node_span(file: &Arc<SourceFile>, node: &Node) -> Span {
    match node.pos.offset {
        Some(offset) => Span::new(file, offset..offset + node.pos.len),
        None => Span::at(file, node.pos.line, node.pos.col, node.pos.len),
    }
}

/// Reads the schema and every `*.cedar` file of the policy directory.
pub fn load_policies(dir: &Path) -> Result<PolicySources, Error> {
    require_dir(dir)?;
    let schema_path = dir.join("schema.cedarschema");
    let schema = read_text(&schema_path)?;
    let mut policies = Vec::new();
    for entry in walk(dir) {
        let entry = entry.map_err(|e| ReadDir {
            path: display_path(e.path().unwrap_or(dir)),
            message: e.to_string(),
        })?;
        let path = entry.path();
        if entry.file_type().is_file() && path.extension().and_then(|e| e.to_str()) == Some("cedar")
        {
            policies.push(read_text(path)?);
        }
    }
    policies.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(PolicySources { schema, policies })
}

fn read_text(path: &Path) -> Result<Arc<SourceFile>, Error> {
    let shown = display_path(path);
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(SourceFile::new(shown, text)),
        Err(e) => Err(crate::error::ReadFile {
            path: shown,
            message: e.to_string(),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_may_hold_one_record_a_list_or_documents() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("one.yaml"), "kind: team\nid: team/a\n").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(
            dir.path().join("sub/list.yml"),
            "- {kind: team, id: team/b}\n- {kind: team, id: team/c}\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("docs.yaml"),
            "kind: team\nid: team/d\n---\nkind: team\nid: team/e\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("README.md"), "not yaml").expect("write");
        std::fs::create_dir(dir.path().join(".archive")).expect("mkdir");
        std::fs::write(
            dir.path().join(".archive/old.yaml"),
            "kind: team\nid: team/old\n",
        )
        .expect("write");
        let raw = load_inventory(dir.path(), &Limits::default()).expect("loads");
        assert_eq!(raw.files.len(), 3);
        assert_eq!(raw.records.len(), 5);
        assert!(raw.diagnostics.is_empty());
    }

    #[test]
    fn scalars_at_the_top_are_not_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("x.yaml"), "- 42\n").expect("write");
        let raw = load_inventory(dir.path(), &Limits::default()).expect("loads");
        assert_eq!(raw.diagnostics.len(), 1);
        assert_eq!(raw.diagnostics[0].code, Code::NotARecord);
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let err = load_inventory(Path::new("/nonexistent/inventory"), &Limits::default());
        assert!(err.is_err());
    }
}
