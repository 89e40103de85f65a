//! Result tables read back from the run store.

use crate::nn::train::RunSummary;
use crate::store::{RunDir, RunRecord, State, Status};
use std::collections::BTreeMap;

/// One run as the tables show it.
#[derive(Clone, Debug)]
pub struct ResultRow {
    pub id: String,
    pub record: RunRecord,
    pub state: State,
    pub epochs_done: usize,
    pub summary: Option<RunSummary>,
    pub error: Option<String>,
}

impl ResultRow {
    /// Reads a run folder; `None` when it has no config yet.
    pub fn read(dir: &RunDir) -> anyhow::Result<Option<Self>> {
        let Some(record) = dir.record()? else {
            return Ok(None);
        };
        let status = dir.status()?.unwrap_or_else(|| Status::new(record.config.epochs));
        Ok(Some(Self {
            id: record.id(),
            state: status.state,
            epochs_done: status.epochs_done,
            summary: status.summary,
            error: status.error,
            record,
        }))
    }
}

fn pct(v: f64) -> String {
    format!("{:.2}", 100.0 * v)
}

/// One line per run: its varying settings and accuracies.
pub fn runs_table(rows: &[ResultRow]) -> String {
    let mut out = format!(
        "{:<12} {:<11} {:<10} {:>7} {:>5} {:>8} {:>4} {:>9} {:>9} {:>6} {:>9} {:>9}  {}\n",
        "run",
        "model",
        "activation",
        "dropout",
        "batch",
        "lr",
        "seed",
        "epochs",
        "best test",
        "@epoch",
        "final test",
        "final train",
        "state"
    );
    for r in rows {
        let c = &r.record.config;
        let dropout = c.model_spec().map(|s| s.dropout.to_string()).unwrap_or_default();
        let (best, at, fin, train) = match &r.summary {
            Some(s) => (
                pct(s.best_test_acc),
                s.best_test_epoch.to_string(),
                pct(s.final_test_acc),
                pct(s.final_train_acc),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        let state = match (&r.state, &r.error) {
            (State::Failed, Some(e)) => format!("failed: {e}"),
            (s, _) => format!("{s:?}").to_lowercase(),
        };
        out.push_str(&format!(
            "{:<12} {:<11} {:<10} {:>7} {:>5} {:>8} {:>4} {:>9} {:>9} {:>6} {:>9} {:>9}  {}\n",
            r.id,
            c.model,
            c.activation,
            dropout,
            c.batch_size,
            c.lr,
            c.seed,
            format!("{}/{}", r.epochs_done, c.epochs),
            best,
            at,
            fin,
            train,
            state
        ));
    }
    out
}

/// The report's table: highest test accuracy per model and activation (mean over runs
/// when a pair has several, with their count).
pub fn highest_accuracy_table(rows: &[ResultRow]) -> String {
    let mut groups: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for r in rows {
        if let Some(s) = &r.summary {
            let key = (r.record.config.model.clone(), r.record.config.activation.clone());
            groups.entry(key).or_default().push(s.best_test_acc);
        }
    }
    let mut out = String::from("highest test accuracy (%)\n");
    for ((model, activation), values) in &groups {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let count = if values.len() > 1 {
            format!("  (mean of {} runs)", values.len())
        } else {
            String::new()
        };
        out.push_str(&format!("  {model:<12} {activation:<11} {:>6}{count}\n", pct(mean)));
    }
    out
}
