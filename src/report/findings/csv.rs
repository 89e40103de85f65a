//! `comparisons.csv`: every compared pair of every study, one row each (a large study's
//! text and page list only its top configurations).

use super::model::Study;
use crate::report::stats::Verdict;
use std::fmt::Write;

/// A CSV field, quoted where it holds a comma, quote or line break.
pub(super) fn field(text: &str) -> String {
    match text.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", text.replace('"', "\"\"")),
        false => text.to_string(),
    }
}

/// The rows: experiment, model, A, B, verdict, A − B and its interval (points), the p-values
/// before and after Holm, the paired seeds, and the study's tag where its folder holds
/// several (declarations: "d2"; empty otherwise).
pub fn comparisons_csv(studies: &[Study]) -> String {
    let mut out = String::from(
        "experiment,model,a,b,verdict,difference,interval_low,interval_high,p,p_holm,p_equivalent,p_equivalent_holm,seeds,study\n",
    );
    for s in studies {
        for c in &s.findings.comparisons {
            let st = &c.statistics;
            let verdict = match c.verdict {
                Verdict::ABetter => "a_better",
                Verdict::BBetter => "b_better",
                Verdict::Equivalent => "equivalent",
                Verdict::Undecided => "undecided",
            };
            let (low, high) = st.interval.map_or((String::new(), String::new()), |(l, h)| {
                (format!("{:.4}", 100.0 * l), format!("{:.4}", 100.0 * h))
            });
            let _ = writeln!(
                out,
                "{},{},{},{},{verdict},{:.4},{low},{high},{},{},{},{},{},{}",
                field(&s.experiment),
                field(&s.findings.model),
                field(&c.a),
                field(&c.b),
                100.0 * st.difference,
                st.p,
                st.p_adjusted,
                st.p_equivalent,
                st.p_equivalent_adjusted,
                st.seeds,
                s.part.as_ref().map_or("", |p| p.tag.as_str())
            );
        }
    }
    out
}
