//! What HR's facts mean at the run's instant: when a person's access must
//! end and whether they have left. Every stage that asks "has this person
//! left?" (reconciliation, evaluation, decisions, reports) reads it here, so
//! the answer is worked out once and the same everywhere.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::model::{Kind, Record};
use crate::validate::Inventory;

/// What severance derives about a person at the run's instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    /// When the person's access must end: the earlier of the current
    /// employment's termination `effective` and `last_day_of_work`, or a
    /// contractor's `contract_end` when no termination is recorded.
    pub at: Option<Timestamp>,
    /// Whether the person is a leaver at the run's instant: HR says
    /// `terminated`, or the departure instant has passed.
    pub leaver: bool,
    /// The current termination is marked immediate.
    pub immediate: bool,
    /// The current termination's reason.
    pub reason: Option<String>,
    /// More than one employment is recorded.
    pub rehired: bool,
    /// The current employment's `contract_end`.
    pub contract_end: Option<Timestamp>,
    /// The end of the current termination's `last_day_of_work`: where a
    /// notice period or garden leave separates it from `effective`, a
    /// policy may keep some access until the later date.
    pub last_day_of_work: Option<Timestamp>,
    /// The end of the current termination's `effective` date.
    pub termination_effective: Option<Timestamp>,
}

/// The time zone a person's dates are read in: their `time_zone`, or UTC.
pub fn time_zone(person: &Record) -> jiff::tz::TimeZone {
    person
        .fields
        .str("time_zone")
        .and_then(|name| jiff::tz::TimeZone::get(name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Works out a person's departure facts at `now`. A date without a time
/// (`effective: 2026-11-13`) ends at midnight after it, in the person's
/// time zone: the person works that whole day.
pub fn departure(person: &Record, now: Timestamp) -> Departure {
    let employments = person.fields.objects("employments");
    let current = employments.last();
    let termination = current.and_then(|e| e.object("termination"));
    let tz = time_zone(person);
    let effective = termination.and_then(|t| t.end_of("effective", &tz));
    let last_day = termination.and_then(|t| t.end_of("last_day_of_work", &tz));
    // Fail safe: access ends at the earlier of the two, and a policy that
    // keeps something until the later one says so in the pack.
    let at = [effective, last_day]
        .into_iter()
        .flatten()
        .min()
        .or_else(|| current.and_then(|e| e.end_of("contract_end", &tz)));
    Departure {
        at,
        leaver: person.status == "terminated" || at.is_some_and(|t| t <= now),
        immediate: termination.is_some_and(|t| t.flag("immediate")),
        reason: termination
            .and_then(|t| t.str("reason_category"))
            .map(str::to_string),
        rehired: employments.len() > 1,
        contract_end: current.and_then(|e| e.end_of("contract_end", &tz)),
        last_day_of_work: last_day,
        termination_effective: effective,
    }
}

/// What is derived about every person at `as_of`, by record index.
pub fn departures(inventory: &Inventory, as_of: Timestamp) -> HashMap<usize, Departure> {
    inventory
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind == Kind::Person)
        .map(|(i, r)| (i, departure(r, as_of)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::test_inventory;

    fn at(s: &str) -> Timestamp {
        crate::model::parse_time(s).expect("time")
    }

    fn person(employments: &str, status: &str) -> Departure {
        let inv = test_inventory(&format!(
            "kind: person\nid: person/p\nemployee_number: '1'\nstatus: {status}\nemployments: {employments}\n"
        ));
        departure(&inv.records[0], at("2026-11-25T09:00:00Z"))
    }

    #[test]
    fn departure_is_the_earlier_of_effective_and_last_day() {
        let d = person(
            "[{start: 2020-01-01, termination: {effective: 2026-12-10, last_day_of_work: 2026-12-04}}]",
            "notice",
        );
        assert_eq!(
            d.at,
            Some(at("2026-12-05")),
            "the last day is worked in full"
        );
        assert!(!d.leaver, "not yet departed");
        assert_eq!(d.last_day_of_work, Some(at("2026-12-05")));
        assert_eq!(d.termination_effective, Some(at("2026-12-11")));
        let d = person(
            "[{start: 2020-01-01, termination: {effective: 2026-11-01}}]",
            "active",
        );
        assert!(d.leaver, "the date has passed even if HR's status lags");
    }

    #[test]
    fn contractors_leave_at_contract_end() {
        let d = person("[{start: 2026-01-01, contract_end: 2026-10-31}]", "active");
        assert_eq!(d.at, Some(at("2026-11-01")));
        assert!(d.leaver);
        let d = person("[{start: 2026-01-01, contract_end: 2027-10-31}]", "active");
        assert!(!d.leaver);
    }

    #[test]
    fn dates_end_at_midnight_in_the_persons_time_zone() {
        let inv = test_inventory(
            "kind: person\nid: person/p\nemployee_number: '1'\nstatus: notice\ntime_zone: America/New_York\nemployments: [{start: 2020-01-01, termination: {effective: 2026-12-10}}]\n",
        );
        let d = departure(&inv.records[0], at("2026-11-25T09:00:00Z"));
        assert_eq!(d.at, Some(at("2026-12-11T05:00:00Z")));
    }

    #[test]
    fn terminated_without_a_date_fails_safe() {
        let d = person("[{start: 2020-01-01}]", "terminated");
        assert_eq!(d.at, None);
        assert!(d.leaver);
    }

    #[test]
    fn a_rehire_is_judged_on_the_current_employment() {
        let d = person(
            "[{start: 2020-01-01, termination: {effective: 2024-05-31}}, {start: 2026-11-02}]",
            "active",
        );
        assert!(d.rehired);
        assert!(!d.leaver);
        assert_eq!(d.at, None);
    }

    #[test]
    fn immediate_and_reason_are_carried() {
        let d = person(
            "[{start: 2020-01-01, termination: {effective: 2026-11-25T08:00:00Z, immediate: true, reason_category: involuntary}}]",
            "terminated",
        );
        assert!(d.immediate);
        assert_eq!(d.reason.as_deref(), Some("involuntary"));
    }
}
