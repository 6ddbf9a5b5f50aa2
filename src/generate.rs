//! A synthetic organisation, deterministic for a seed: a demo inventory, a
//! load test for a CI job, and the input of severance's own benchmarks.
//! Records are grouped by team and system the way exports arrive, with the
//! lifecycle mix real offboarding sees (leavers, notices, leave, contractors
//! past their end date, rehires, movers, legal holds, orphans).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};

use crate::model::format_time;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateSettings {
    /// How many people.
    pub people: usize,
    /// The random seed; the same seed gives the same bytes.
    pub seed: u64,
    /// The directory to write (must not exist, or be empty).
    pub out: PathBuf,
    /// The instant the organisation's dates are relative to.
    pub anchor: Timestamp,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    /// Files written.
    pub files: usize,
    /// Records written.
    pub records: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Why generation failed.
#[derive(Debug)]
pub struct GenerateError(pub String);

const SAAS: [&str; 4] = ["github", "slack", "google", "jira"];
const ZONES: [&str; 5] = [
    "Europe/London",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Tokyo",
    "UTC",
];

struct Person {
    id: String,
    team: usize,
    leaver: bool,
}

/// One output file's records, by relative path.
#[derive(Default)]
struct Files(std::collections::BTreeMap<String, String>);

impl Files {
    fn add(&mut self, path: String, record: &str) {
        let f = self.0.entry(path).or_default();
        f.push_str("- ");
        f.push_str(record);
        f.push('\n');
    }
}

/// One of the `n` people, at random.
fn pick(rng: &mut fastrand::Rng, n: usize) -> usize {
    rng.usize(..n)
}

fn day(anchor: Timestamp, days: i64) -> String {
    let t = anchor
        .checked_add(SignedDuration::from_hours(24 * days))
        .unwrap_or(anchor);
    format_time(t)
}

fn date(anchor: Timestamp, days: i64) -> String {
    day(anchor, days)[..10].to_string()
}

/// Writes a synthetic organisation of `settings.people` people.
pub fn generate(settings: &GenerateSettings) -> Result<Generated, GenerateError> {
    let out = &settings.out;
    if out.exists()
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(GenerateError(format!(
            "`{}` exists and is not empty; generate into a new directory",
            out.display()
        )));
    }
    // The steps draw from one random stream in a fixed order; reordering
    // them changes every organisation a seed gives.
    let mut org = Organisation::new(settings);
    org.teams();
    org.people();
    org.personal_holdings();
    let nhis = org.non_human_identities();
    let workloads = org.workloads(nhis);
    org.credentials(nhis, workloads);
    org.shared_devices();
    write_all(out, &org.files)
}

/// An organisation being drawn: the random stream, the records written so
/// far and the people they refer to.
struct Organisation {
    rng: fastrand::Rng,
    anchor: Timestamp,
    files: Files,
    /// How many people.
    n: usize,
    teams: usize,
    people: Vec<Person>,
}

fn team_file(t: usize) -> String {
    format!("t{t:04}.yaml")
}

/// A person's place in the lifecycle: status, employments (YAML) and
/// whether they count as a leaver.
struct Lifecycle {
    status: &'static str,
    employments: String,
    leaver: bool,
}

/// An organisation's fields borrowed apart (the stream, the anchor, the
/// files, how many people, the people), so that a step can draw from the
/// stream and add records while it reads the people.
type Parts<'o> = (
    &'o mut fastrand::Rng,
    Timestamp,
    &'o mut Files,
    usize,
    &'o [Person],
);

impl Organisation {
    fn parts(&mut self) -> Parts<'_> {
        (
            &mut self.rng,
            self.anchor,
            &mut self.files,
            self.n,
            &self.people,
        )
    }

    fn new(settings: &GenerateSettings) -> Organisation {
        let n = settings.people.max(1);
        Organisation {
            rng: fastrand::Rng::with_seed(settings.seed),
            anchor: settings.anchor,
            files: Files::default(),
            n,
            teams: (n / 50).max(2),
            people: Vec::with_capacity(n),
        }
    }

    fn teams(&mut self) {
        for t in 0..self.teams {
            self.files.add(
                "teams.yaml".into(),
                &format!("{{kind: team, id: team/t{t:04}, name: Team {t}, status: active}}"),
            );
        }
    }

    /// People, with the lifecycle mix.
    fn people(&mut self) {
        let a = self.anchor;
        for i in 0..self.n {
            let id = format!("person/E{i:07}");
            let team = self.rng.usize(..self.teams);
            let r = self.rng.f64();
            let contractor = self.rng.f64() < 0.10;
            let zone = ZONES[self.rng.usize(..ZONES.len())];
            let start = -self.rng.i64(30..3000);
            let mut extra = String::new();
            let Lifecycle {
                status,
                employments,
                leaver,
            } = self.lifecycle(r, contractor, start, &mut extra);
            if !leaver && self.rng.f64() < 0.02 {
                extra.push_str(&format!(
                    ", previous_team: team/t{:04}, moved_at: {}",
                    self.rng.usize(..self.teams),
                    date(a, -self.rng.i64(1..40))
                ));
            }
            self.files.add(
                format!("people/{}", team_file(team)),
                &format!(
                    "{{kind: person, id: {id}, display_name: Person {i}, employee_number: \"E{i:07}\", team: team/t{team:04}, time_zone: {zone}, status: {status}{extra}, employments: {employments}}}"
                ),
            );
            self.people.push(Person { id, team, leaver });
        }
    }

    /// Where a person stands: `r` picks terminated, on notice, on leave,
    /// rehired, contractor or active; fields beyond the employments go to
    /// `extra`.
    fn lifecycle(&mut self, r: f64, contractor: bool, start: i64, extra: &mut String) -> Lifecycle {
        let a = self.anchor;
        let rng = &mut self.rng;
        let (status, employments, leaver) = if r < 0.03 {
            let eff = -rng.i64(1..90);
            let immediate = rng.f64() < 0.1;
            let reason = if rng.f64() < 0.01 {
                "death"
            } else if immediate {
                "involuntary"
            } else {
                "voluntary"
            };
            if rng.f64() < 0.05 {
                extra.push_str(", legal_hold: true");
            }
            (
                "terminated",
                format!(
                    "[{{start: {}, termination: {{effective: {}, reason_category: {reason}, immediate: {immediate}}}}}]",
                    date(a, start),
                    date(a, eff)
                ),
                true,
            )
        } else if r < 0.05 {
            let eff = rng.i64(1..45);
            (
                "notice",
                format!(
                    "[{{start: {}, termination: {{effective: {}, last_day_of_work: {}}}}}]",
                    date(a, start),
                    date(a, eff),
                    date(a, eff - 3)
                ),
                false,
            )
        } else if r < 0.07 {
            (
                "on_leave",
                format!("[{{start: {}}}]", date(a, start)),
                false,
            )
        } else if r < 0.08 {
            (
                "active",
                format!(
                    "[{{start: {}, termination: {{effective: {}}}}}, {{start: {}}}]",
                    date(a, start - 800),
                    date(a, start - 400),
                    date(a, start)
                ),
                false,
            )
        } else if contractor {
            let end = if rng.f64() < 0.2 {
                -rng.i64(1..60)
            } else {
                rng.i64(10..400)
            };
            extra.push_str(&format!(
                ", worker_type: contractor, sponsor: person/E{:07}",
                rng.usize(..self.n)
            ));
            (
                "active",
                format!(
                    "[{{start: {}, contract_end: {}}}]",
                    date(a, start),
                    date(a, end)
                ),
                end < 0,
            )
        } else {
            ("active", format!("[{{start: {}}}]", date(a, start)), false)
        };
        Lifecycle {
            status,
            employments,
            leaver,
        }
    }

    /// Each person's devices, accounts and grants, filed by their team.
    fn personal_holdings(&mut self) {
        let (rng, a, files, _, people) = self.parts();
        for (i, p) in people.iter().enumerate() {
            let tf = team_file(p.team);
            let pid = &p.id;
            // Devices: a laptop for most, a personal phone for some.
            if rng.f64() < 0.95 {
                let status = if p.leaver && rng.f64() < 0.3 {
                    "returned"
                } else {
                    "deployed"
                };
                let checkin = day(a, -rng.i64(0..(if p.leaver { 90 } else { 3 })));
                files.add(
                    format!("devices/{tf}"),
                    &format!(
                        "{{kind: device, id: device/LAP-{i:07}, category: laptop, assigned_to: {pid}, status: {status}, mdm: {{provider: intune, primary_user: {pid}, last_checkin: {checkin}}}}}"
                    ),
                );
            }
            if rng.f64() < 0.2 {
                files.add(
                    format!("devices/{tf}"),
                    &format!("{{kind: device, id: device/PHN-{i:07}, category: phone, ownership: personal, assigned_to: {pid}, status: deployed}}"),
                );
            }
            // Accounts: the identity provider and four SaaS systems.
            let okta_status = if p.leaver && rng.f64() < 0.3 {
                "disabled"
            } else {
                "enabled"
            };
            files.add(
                format!("accounts/okta/{tf}"),
                &format!(
                    "{{kind: account, id: account/okta/{i:07}, system: okta, principal: {pid}, account_type: human, status: {okta_status}, last_login: {}}}",
                    day(a, -rng.i64(0..30))
                ),
            );
            for s in SAAS {
                files.add(
                    format!("accounts/{s}/{tf}"),
                    &format!("{{kind: account, id: account/{s}/{i:07}, system: {s}, principal: {pid}, account_type: human, status: enabled}}"),
                );
            }
            // Grants on the identity-provider account.
            for g in 0..3 {
                let privileged = rng.f64() < 0.1;
                let mode = ["standing", "eligible", "group"][rng.usize(..3)];
                let team = if rng.f64() < 0.3 {
                    format!(", team: team/t{:04}", p.team)
                } else {
                    String::new()
                };
                files.add(
                    format!("grants/{tf}"),
                    &format!(
                        "{{kind: grant, id: grant/{i:07}/{g}, system: aws, entitlement: role-{g}, account: account/okta/{i:07}, privileged: {privileged}, mode: {mode}{team}, status: active}}"
                    ),
                );
            }
        }
    }

    /// Non-human identities, filed by their owner's team. Returns how many.
    fn non_human_identities(&mut self) -> usize {
        let (rng, a, files, n, people) = self.parts();
        let nhis = (n / 10).max(1);
        for k in 0..nhis {
            let owner = pick(rng, n);
            let tf = team_file(people[owner].team);
            let kind = if rng.f64() < 0.05 {
                "ai_agent"
            } else if rng.f64() < 0.1 {
                "oauth_app"
            } else {
                "service_account"
            };
            let mut fields = String::new();
            if rng.f64() < 0.03 {
                fields.push_str(", status: orphaned");
            } else {
                let _ = write!(fields, ", owner: {}", people[owner].id);
                if rng.f64() < 0.7 {
                    let _ = write!(fields, ", backup_owner: {}", people[pick(rng, n)].id);
                }
                if kind == "oauth_app" {
                    let _ = write!(
                        fields,
                        ", consented_by: {}, last_used: {}",
                        people[owner].id,
                        day(a, -rng.i64(0..200))
                    );
                }
                fields.push_str(", status: active");
            }
            if rng.f64() < 0.2 {
                let _ = write!(fields, ", known_to: [{}]", people[pick(rng, n)].id);
            }
            let env = if rng.f64() < 0.6 { "prod" } else { "staging" };
            files.add(
                format!("nhi/{tf}"),
                &format!(
                    "{{kind: nhi, id: nhi/svc/{k:07}, nhi_type: {kind}, environments: [{env}]{fields}}}"
                ),
            );
        }
        nhis
    }

    /// Workloads, each running as one of the `nhis` identities. Returns how
    /// many.
    fn workloads(&mut self, nhis: usize) -> usize {
        let (rng, a, files, n, people) = self.parts();
        let workloads = (n / 5).max(1);
        for k in 0..workloads {
            let launcher = pick(rng, n);
            let tf = team_file(people[launcher].team);
            let ephemeral = rng.f64() < 0.6;
            let ttl = if ephemeral {
                format!(", expires_at: {}", day(a, rng.i64(-30..30)))
            } else {
                String::new()
            };
            let status = if rng.f64() < 0.2 {
                "terminated"
            } else {
                "running"
            };
            files.add(
                format!("workloads/{tf}"),
                &format!(
                    "{{kind: workload, id: workload/w{k:07}, provider: aws, ephemeral: {ephemeral}, launched_by: {}, identity: nhi/svc/{:07}{ttl}, status: {status}}}",
                    people[launcher].id,
                    rng.usize(..nhis)
                ),
            );
        }
        workloads
    }

    /// Credentials, some bound to an identity or a workload.
    fn credentials(&mut self, nhis: usize, workloads: usize) {
        let (rng, a, files, n, people) = self.parts();
        let credentials = (n / 2).max(1);
        for k in 0..credentials {
            let creator = pick(rng, n);
            let tf = team_file(people[creator].team);
            let (cred_type, bound) = match rng.usize(..5) {
                0 => (
                    "api_key",
                    format!(", bound_to: nhi/svc/{:07}", rng.usize(..nhis)),
                ),
                1 => ("pat", String::new()),
                2 => ("ssh_key", String::new()),
                3 => ("deploy_key", ", environments: [prod]".to_string()),
                _ => (
                    "access_key",
                    format!(", bound_to: workload/w{:07}", rng.usize(..workloads)),
                ),
            };
            files.add(
                format!("credentials/{tf}"),
                &format!(
                    "{{kind: credential, id: cred/c{k:07}, cred_type: {cred_type}, created_by: {}{bound}, last_used: {}, status: active}}",
                    people[creator].id,
                    day(a, -rng.i64(0..180))
                ),
            );
        }
    }

    /// Shared kiosks and lab systems with custodians.
    fn shared_devices(&mut self) {
        let (rng, _, files, n, people) = self.parts();
        for k in 0..(n / 100).max(1) {
            let c = pick(rng, n);
            let (category, mode) = if k % 2 == 0 {
                ("kiosk", "shared")
            } else {
                ("lab_system", "lab")
            };
            files.add(
                format!("devices/{}", team_file(people[c].team)),
                &format!(
                    "{{kind: device, id: device/SHR-{k:06}, category: {category}, assignment_mode: {mode}, custodian: {}, status: deployed}}",
                    people[c].id
                ),
            );
        }
    }
}

fn write_all(out: &Path, files: &Files) -> Result<Generated, GenerateError> {
    let mut summary = Generated::default();
    for (rel, text) in &files.0 {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| GenerateError(format!("could not create `{}`: {e}", dir.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| GenerateError(format!("could not write `{}`: {e}", path.display())))?;
        summary.files += 1;
        summary.records += text.lines().count();
        summary.bytes += text.len() as u64;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(out: PathBuf, seed: u64) -> GenerateSettings {
        GenerateSettings {
            people: 200,
            seed,
            out,
            anchor: crate::model::parse_time("2026-11-25T00:00:00Z").expect("time"),
        }
    }

    fn contents(dir: &Path) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let e = e.expect("walk");
            if e.file_type().is_file() {
                out.push((
                    e.path()
                        .strip_prefix(dir)
                        .expect("prefix")
                        .display()
                        .to_string(),
                    std::fs::read_to_string(e.path()).expect("read"),
                ));
            }
        }
        out
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let a = generate(&settings(tmp.path().join("a"), 7)).expect("generates");
        let b = generate(&settings(tmp.path().join("b"), 7)).expect("generates");
        assert_eq!(a, b);
        assert_eq!(
            contents(&tmp.path().join("a")),
            contents(&tmp.path().join("b"))
        );
        let c = generate(&settings(tmp.path().join("c"), 8)).expect("generates");
        assert_ne!(
            contents(&tmp.path().join("a")),
            contents(&tmp.path().join("c"))
        );
        assert!(
            c.records > 200 * 9,
            "about ten records per person, got {}",
            c.records
        );
    }

    /// The bytes a seed gives are pinned: benchmarks and demos compare
    /// across versions, so a change to the draw order must be deliberate.
    #[test]
    fn a_seed_gives_the_same_organisation_as_before() {
        use sha2::{Digest, Sha256};
        let tmp = tempfile::tempdir().expect("tempdir");
        generate(&settings(tmp.path().join("a"), 7)).expect("generates");
        let mut hasher = Sha256::new();
        for (path, text) in contents(&tmp.path().join("a")) {
            hasher.update(path.as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            hasher.update([0]);
        }
        assert_eq!(
            hex::encode(hasher.finalize()),
            "28c8783a8d6f1331460e98c02ea07b8c094cebd6f3305e3f6ae95bd2dad8e311"
        );
    }

    #[test]
    fn refuses_to_write_into_a_non_empty_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("x"), "x").expect("write");
        assert!(generate(&settings(tmp.path().to_path_buf(), 1)).is_err());
    }
}
