//! The `[seeds]` and `[findings]` tables of an experiment file, checked: seed rounds, the
//! findings' metric and margin of equivalence (each message names the key and the value).

use crate::config::{FindingsMetric, SeedRounds};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::{Spanned, Value};

/// The most seeds per configuration `[seeds] max` may ask for.
const MOST_SEEDS: usize = 1000;

/// `[seeds]` settings, checked: `until = "decided"`, `start` ≥ 2, `step` ≥ 1,
/// `start` ≤ `max` ≤ 1000 (each message names the key and the value it got).
pub(super) fn parse_seed_rounds(
    section: &BTreeMap<Spanned<String>, Spanned<Value>>,
) -> Result<SeedRounds, (Range<usize>, String)> {
    let (mut until, mut start, mut step, mut max) = (None, None, None, None);
    for (key, value) in section {
        let count = |min: i64| match value.get_ref() {
            Value::Integer(i) if *i >= min && *i <= MOST_SEEDS as i64 => Ok(*i as usize),
            other => Err((
                value.span(),
                format!(
                    "seeds.{}: expected a whole number from {min} to {MOST_SEEDS}, got {other}",
                    key.get_ref()
                ),
            )),
        };
        match key.get_ref().as_str() {
            "until" => match value.get_ref() {
                Value::String(s) if s == "decided" => until = Some(()),
                other => {
                    return Err((
                        value.span(),
                        format!("seeds.until: the one stopping rule is \"decided\", got {other}"),
                    ))
                }
            },
            "start" => start = Some((count(2)?, value.span())),
            "step" => step = Some(count(1)?),
            "max" => max = Some((count(2)?, value.span())),
            other => {
                return Err((
                    key.span(),
                    format!("seeds.{other}: unknown setting (the [seeds] table takes until, start, step, max)"),
                ))
            }
        }
    }
    let missing = |what: &str| (0..0, format!("[seeds] needs {what}"));
    until.ok_or_else(|| missing("until = \"decided\""))?;
    let (start, _) = start.ok_or_else(|| missing("start = N (seeds each configuration trains first, at least 2)"))?;
    let step = step.ok_or_else(|| missing("step = N (seeds added to each undecided configuration per round)"))?;
    let (max, max_span) = max.ok_or_else(|| missing("max = N (the most seeds per configuration)"))?;
    if max < start {
        return Err((max_span, format!("seeds.max = {max}: below seeds.start = {start}")));
    }
    Ok(SeedRounds { start, step, max })
}

/// `[findings] metric`: `accuracy` or `balanced_accuracy`.
pub(super) fn parse_metric(value: &Value) -> Result<FindingsMetric, String> {
    value
        .as_str()
        .ok_or_else(|| format!("findings.metric: expected \"accuracy\" or \"balanced_accuracy\", got {value}"))?
        .parse()
        .map_err(|e: String| format!("findings.metric: {e}"))
}

/// `[findings] rope`: accuracy points (0 ≤ rope < 100, finite), as a fraction.
pub(super) fn parse_rope(value: &Value) -> Result<f64, String> {
    let points = match value {
        Value::Float(f) => *f,
        Value::Integer(i) => *i as f64,
        other => {
            return Err(format!(
                "findings.rope: expected a number of accuracy points (e.g. 1.0), got {other}"
            ))
        }
    };
    if !(points.is_finite() && (0.0..100.0).contains(&points)) {
        return Err(format!(
            "findings.rope = {points}: expected a margin of practical equivalence in accuracy points, at least 0 and below 100 (default 1.0)"
        ));
    }
    Ok(points / 100.0)
}
