//! The table `check` prints after the reports when it checked several
//! paths: one row per submission (path, verdict, errors, warnings, time).

use std::time::Duration;

use super::human::sanitize;
use crate::check::{SubmissionReport, Verdict};
use crate::diagnostic::Severity;

pub fn table(reports: &[SubmissionReport], times: &[Duration]) -> String {
    let paths: Vec<String> = reports.iter().map(|r| sanitize(&r.path)).collect();
    let width = paths
        .iter()
        .map(|p| p.chars().count())
        .chain(["path".len()])
        .max()
        .unwrap_or(4);
    let mut out = format!(
        "\n{:<width$}  {:<8}  {:>6}  {:>8}  {:>7}\n",
        "path", "verdict", "errors", "warnings", "time"
    );
    for (i, (report, path)) in reports.iter().zip(&paths).enumerate() {
        let verdict = match report.verdict() {
            Verdict::Accept => "accepted",
            Verdict::Reject => "rejected",
        };
        let time = times
            .get(i)
            .map_or("-".to_string(), |t| format!("{:.1}s", t.as_secs_f64()));
        out.push_str(&format!(
            "{path:<width$}  {verdict:<8}  {:>6}  {:>8}  {time:>7}\n",
            report.count(Severity::Error),
            report.count(Severity::Warning),
        ));
    }
    out
}
