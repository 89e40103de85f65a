//! `eegrun check`: the regression gate against a recorded baseline.

use super::args::CheckArgs;
use crate::report::gate::{self, Baseline, Verdict};
use crate::report::{scan, summary, Run};
use crate::store::RunState;
use anyhow::{bail, Result};

pub(super) fn command(args: CheckArgs) -> Result<()> {
    let tolerance = args.tolerance.map(gate::check_tolerance).transpose()?;
    let (runs, warnings) = scan(&args.runs_dir)?;
    warnings
        .iter()
        .for_each(|w| eprintln!("warning: {}", crate::escape::visible(w)));
    let done: Vec<Run> = runs.into_iter().filter(|r| r.run_state == RunState::Done).collect();
    let frame = summary::filter(summary::runs_frame(&done)?, &args.filters)?;
    let selected: Vec<Run> = summary::kept_runs(&frame, done);
    let current = gate::entries(&selected)?;
    if current.is_empty() {
        bail!(
            "{}: no finished runs{} — nothing to {}",
            args.runs_dir.display(),
            if args.filters.is_empty() { "" } else { " match --filter" },
            if args.update { "record" } else { "check" }
        );
    }
    if args.update {
        let old = match gate::load(&args.baseline) {
            Ok(b) => Some(b),
            Err(_) if !args.baseline.exists() => None,
            Err(e) => return Err(e.context("refusing to replace it: fix or remove it first")),
        };
        let tolerance = tolerance.or(old.as_ref().map(|b| b.tolerance)).unwrap_or(3.0);
        let (baseline, counts): (Baseline, _) = gate::merged(old, &current, tolerance);
        gate::save(&args.baseline, &baseline)?;
        println!(
            "recorded {} of {} in {} (tolerance {tolerance} points); kept {} recorded before that these runs do not replace ({} before, {} now)",
            crate::plural::count(counts.written, "seed", "seeds"),
            crate::plural::count(current.len(), "configuration", "configurations"),
            args.baseline.display(),
            crate::plural::count(counts.kept, "seed", "seeds"),
            crate::plural::count(counts.before, "seed", "seeds"),
            crate::plural::count(counts.after, "seed", "seeds"),
        );
        return Ok(());
    }
    let baseline = gate::load(&args.baseline)?;
    if baseline.entries.iter().any(|e| e.configuration.is_none()) {
        eprintln!(
            "warning: {} was recorded before baselines named whole configurations: its entries are matched by their short key, which leaves out eps, betas, val_fraction, the leaky slope and the data; re-record it with --update",
            args.baseline.display()
        );
    }
    let tolerance = tolerance.unwrap_or(baseline.tolerance);
    let comparisons = gate::compare(&baseline, &current, tolerance);
    let num = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = comparisons
        .iter()
        .map(|c| {
            let change = match (c.change, c.interval) {
                (Some(d), Some((low, high))) => format!("{d:+.2} [{low:+.2}, {high:+.2}]"),
                (Some(d), None) => format!("{d:+.2} (no interval)"),
                _ => "-".into(),
            };
            vec![
                c.key.clone(),
                c.metric.into(),
                num(c.baseline),
                num(c.current),
                change,
                c.paired_seeds.to_string(),
                c.label(args.strict).into(),
            ]
        })
        .collect();
    let header = [
        "configuration",
        "metric",
        "baseline",
        "current",
        "change [95% CI]",
        "paired seeds",
        "verdict",
    ]
    .map(String::from)
    .to_vec();
    print!("{}", summary::render_text(&(header, rows), false));
    let outcome = gate::Outcome::of(&comparisons, args.strict);
    let (regressed, missing, new) = (outcome.regressed, outcome.missing, outcome.new);
    if new > 0 {
        eprintln!(
            "{} {} in {} not in the baseline (record with --update)",
            if args.strict { "error:" } else { "warning:" },
            crate::plural::count(new, "configuration is", "configurations are"),
            args.runs_dir.display()
        );
    }
    for c in comparisons
        .iter()
        .filter(|c| c.verdict == Verdict::Missing && c.metric == crate::report::columns::FINAL_TEST_ACC)
    {
        let seeds: Vec<String> = c.missing_seeds.iter().map(u64::to_string).collect();
        eprintln!(
            "error: {}: recorded seeds with no finished run now: {}",
            crate::escape::visible(&c.key),
            if seeds.is_empty() {
                "all".into()
            } else {
                seeds.join(", ")
            }
        );
    }
    if outcome.failed() {
        bail!(
            "check failed against {} (tolerance {tolerance} points): {regressed} regressed, {missing} missing{}",
            args.baseline.display(),
            if args.strict {
                format!(", {new} not in the baseline")
            } else {
                String::new()
            }
        );
    }
    println!(
        "every one of the {} of {} within {tolerance} points (regressed = the 95% interval of the paired change lies below −{tolerance})",
        crate::plural::count(baseline.entries.len(), "configuration", "configurations"),
        args.baseline.display()
    );
    Ok(())
}
