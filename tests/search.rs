//! Searches that select by validation results, end to end through the binary on tiny
//! synthetic data: successive halving gives the same promotions and metrics with one or two
//! jobs and after kill -9 at random moments, stopped runs are continued (never retrained)
//! when the budget grows, TPE rounds are deterministic, and selecting without validation
//! data is refused.

mod common;

use common::{eegrun, Scratch};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A fresh folder holding `x.toml` with the given body.
fn workspace(name: &str, body: &str) -> Scratch {
    let dir = Scratch::new(&format!("search-{name}"));
    std::fs::write(dir.join("x.toml"), body).unwrap();
    dir
}

/// 6 samples, 6 epochs; rungs at epochs 1, 2, 4 and 6 (η = 2): 6 → 3 → 1 → 1 runs.
const HALVING: &str = r#"
name = "sh"
data = "synthetic:1:120"
[defaults]
epochs = 6
batch_size = 16
val_fraction = 0.25
[search]
samples = 6
seed = 3
lr = { log_uniform = [1e-4, 1e-1] }
dropout = { uniform = [0.0, 0.75] }
[search.early_stopping]
kind = "successive_halving"
metric = "val_acc"
min_epochs = 1
reduction_factor = 2
"#;

/// The run folders under `dir/runs/sh`.
fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    common::run_folders(&dir.join("runs/sh"))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// metrics.csv lines, without the timing columns unless `timings`.
fn metrics(run: &Path, timings: bool) -> Vec<String> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            l.split(',')
                .take(if timings { 9 } else { 7 })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// One run as stored: id, state, stopped rung, metrics without timings, predictions.
type StoredRun = (String, String, serde_json::Value, Vec<String>, String);

/// What a finished search stored: its decisions, and every run as stored.
fn outcome(dir: &Path) -> (serde_json::Value, Vec<StoredRun>) {
    let search = json(&dir.join("runs/sh/search.json"));
    let runs = run_dirs(dir)
        .iter()
        .map(|r| {
            let status = json(&r.join("status.json"));
            (
                r.file_name().unwrap().to_string_lossy().to_string(),
                status["state"].as_str().unwrap().to_string(),
                status["stopped_rung"].clone(),
                metrics(r, false),
                std::fs::read_to_string(r.join("predictions.csv")).unwrap(),
            )
        })
        .collect();
    (search["decisions"].clone(), runs)
}

fn run_search(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["x.toml"];
    args.extend(extra);
    let out = eegrun(dir, &args);
    assert!(out.status.success(), "{}", text(&out));
    out
}

#[test]
fn halving_gives_the_same_promotions_and_metrics_with_one_or_two_jobs() {
    let one = workspace("jobs1", HALVING);
    let said = text(&run_search(&one, &["--jobs", "1", "--threads", "1"]));
    let two = workspace("jobs2", HALVING);
    run_search(&two, &["--jobs", "2", "--threads", "1"]);
    let (decisions, runs) = outcome(&one);
    assert_eq!(outcome(&two), (decisions.clone(), runs.clone()));

    // 6 runs reach rung 1 (epoch 1), 3 rung 2 (epoch 2), 1 rung 3 (epoch 4) and the end.
    let promoted: Vec<usize> = decisions
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["promoted"].as_array().unwrap().len())
        .collect();
    assert_eq!(promoted, [3, 1, 1], "{decisions}");
    let mut epochs: Vec<usize> = runs.iter().map(|r| r.3.len() - 1).collect();
    epochs.sort_unstable();
    assert_eq!(epochs, [1, 1, 1, 2, 2, 6]);
    let stopped: Vec<&serde_json::Value> = runs.iter().filter(|r| r.1 == "stopped").map(|r| &r.2).collect();
    assert_eq!(stopped.len(), 5, "{runs:?}");
    assert_eq!(stopped.iter().filter(|r| **r == 1).count(), 3);
    assert_eq!(stopped.iter().filter(|r| **r == 2).count(), 2);
    // The promoted at each rung are the best by validation accuracy, ties by id.
    for d in decisions.as_array().unwrap() {
        let scores = d["scores"].as_array().unwrap();
        let best: Vec<&serde_json::Value> = scores
            .iter()
            .take(d["promoted"].as_array().unwrap().len())
            .map(|s| &s[0])
            .collect();
        assert_eq!(best, d["promoted"].as_array().unwrap().iter().collect::<Vec<_>>());
        assert!(scores.windows(2).all(|w| w[0][1].as_f64() >= w[1][1].as_f64()), "{d}");
    }
    assert!(said.contains("13 epochs trained of 36"), "{said}");
    assert!(said.contains("its test accuracy, untouched by the choice"), "{said}");
    // Progress lines show the validation accuracy the search ranks on, and a run trained to
    // a rung is not called done.
    let epoch_lines: Vec<&str> = said.lines().filter(|l| l.contains("] epoch ")).collect();
    assert!(
        !epoch_lines.is_empty() && epoch_lines.iter().all(|l| l.contains(" val ")),
        "{said}"
    );
    assert!(said.contains("] trained to epoch 1 of 6 (a search rung)"), "{said}");

    let listing = text(&eegrun(&one, &["x.toml", "--dry-run"]));
    assert!(listing.contains("stopped at rung 1, epoch 1/6"), "{listing}");
    assert!(listing.contains("stopped at rung 2, epoch 2/6"), "{listing}");
    assert_eq!(listing.matches(" finished ").count(), 1, "{listing}");
    let summary = eegrun(
        &one,
        &[
            "summarize",
            "runs",
            "--no-plots",
            "--format",
            "csv",
            "--group-by",
            "experiment",
        ],
    );
    assert!(text(&summary).contains("1 done, 5 stopped"), "{}", text(&summary));
}

#[test]
fn a_halving_search_killed_at_random_moments_resumes_to_the_same_result() {
    let reference = workspace("kill-ref", HALVING);
    run_search(&reference, &["--jobs", "2", "--threads", "1"]);
    let want = outcome(&reference);

    let dir = workspace("kill", HALVING);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    // Kill after 1, 4, 8 and 11 of the 13 epochs, each a random 0–40 ms later.
    let mut moments = Vec::new();
    for (k, epochs_seen) in [1usize, 4, 8, 11].into_iter().enumerate() {
        let delay = (nanos >> (k * 6)) % 41;
        moments.push((epochs_seen, delay));
        let mut child = Command::new(env!("CARGO_BIN_EXE_eegrun"))
            .current_dir(&dir)
            .args(["x.toml", "--jobs", "2", "--threads", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        loop {
            let recorded: usize = run_dirs(&dir)
                .iter()
                .map(|r| metrics(r, false).len().saturating_sub(1))
                .sum();
            if recorded >= epochs_seen || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "no progress");
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
    }
    let listing = text(&eegrun(&dir, &["x.toml", "--dry-run"]));
    assert!(
        !listing.contains("inconsistent") && !listing.contains("unreadable"),
        "kills at {moments:?}: {listing}"
    );
    // The narrowest moment, made sure of: a kill after a run's last epoch of a step was
    // recorded but before it was marked stopped leaves it "running" with every epoch.
    if let Some(run) = run_dirs(&dir)
        .into_iter()
        .find(|r| json(&r.join("status.json"))["state"] == "stopped")
    {
        let mut status = json(&run.join("status.json"));
        status["state"] = "running".into();
        status.as_object_mut().unwrap().remove("stopped_rung");
        std::fs::write(run.join("status.json"), serde_json::to_vec(&status).unwrap()).unwrap();
    }
    run_search(&dir, &["--jobs", "2", "--threads", "1"]);
    assert_eq!(outcome(&dir), want, "kills (after epochs, ms) at {moments:?}");
}

#[test]
fn stopped_runs_are_continued_when_the_budget_grows() {
    // η = 3 promotes 2 of the 6 at rung 1; η = 2 (same first rung) promotes 3: the third is
    // continued from its checkpoint, its first epoch kept as it was (timings included).
    let dir = workspace("grow", &HALVING.replace("reduction_factor = 2", "reduction_factor = 3"));
    run_search(&dir, &["--jobs", "2", "--threads", "1"]);
    let before: Vec<(PathBuf, Vec<String>)> = run_dirs(&dir)
        .into_iter()
        .map(|r| (r.clone(), metrics(&r, true)))
        .collect();
    assert_eq!(
        before.iter().filter(|(_, m)| m.len() == 2).count(),
        4,
        "4 runs stopped at epoch 1"
    );

    let said = text(&run_search(
        &dir,
        &[
            "--jobs",
            "2",
            "--threads",
            "1",
            "--set",
            "search.early_stopping.reduction_factor=2",
        ],
    ));
    let mut extended = 0;
    for (run, old) in &before {
        let new = metrics(run, true);
        assert_eq!(
            new[..old.len()],
            old[..],
            "{}: epochs already trained changed",
            run.display()
        );
        if old.len() == 2 && new.len() > 2 {
            extended += 1;
            assert!(json(&run.join("status.json"))["attempts"].as_u64() >= Some(2));
        }
    }
    assert_eq!(extended, 1, "{said}");
    // The grown search decides as one that had η = 2 from the start.
    let fresh = workspace("grow-fresh", HALVING);
    run_search(&fresh, &["--jobs", "1", "--threads", "1"]);
    let search = |d: &Path| json(&d.join("runs/sh/search.json"));
    assert_eq!(search(&dir)["decisions"], search(&fresh)["decisions"]);
    assert_eq!(search(&dir)["chosen"], search(&fresh)["chosen"]);
}

#[test]
fn tpe_rounds_are_deterministic() {
    let body = HALVING
        .replace("samples = 6", "samples = 6\nsampler = \"tpe\"\nrounds = 3")
        .replace("min_epochs = 1", "min_epochs = 2");
    let one = workspace("tpe1", &body);
    let said = text(&run_search(&one, &["--jobs", "1", "--threads", "1"]));
    let two = workspace("tpe2", &body);
    run_search(&two, &["--jobs", "2", "--threads", "1"]);
    assert_eq!(outcome(&one), outcome(&two));
    assert_eq!(run_dirs(&one).len(), 6, "{said}");
    let rounds: Vec<u64> = json(&one.join("runs/sh/search.json"))["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["round"].as_u64().unwrap())
        .collect();
    assert_eq!(
        rounds,
        [1, 1, 2, 2, 3, 3],
        "two samples per round, rungs at 2 and 4 before 6"
    );
}

#[test]
fn selecting_without_validation_data_or_on_test_data_is_refused() {
    let cases = [
        (
            HALVING.replace("val_fraction = 0.25", "val_fraction = 0.0"),
            "val_fraction is 0; selecting on the test set leaks",
        ),
        (
            HALVING.replace("\"val_acc\"", "\"test_acc\""),
            "a validation metric: selecting on test data leaks",
        ),
        (
            HALVING.replace("samples = 6", "samples = 6\nsampler = \"tpe\""),
            "needs rounds ≥ 2",
        ),
        (
            HALVING.replace("min_epochs = 1", "min_epochs = 6"),
            "must be below epochs = 6",
        ),
        (
            HALVING.replace("seed = 3", "seed = 3\nval_fraction = { uniform = [0.1, 0.3] }"),
            "search.val_fraction cannot be searched",
        ),
        (
            HALVING.replace("kind = \"successive_halving\"", "kind = \"hyperband\""),
            "must be \"successive_halving\"",
        ),
    ];
    for (body, expected) in cases {
        let dir = workspace("refuse", &body);
        let out = eegrun(&dir, &["x.toml"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains(expected), "expected '{expected}': {}", text(&out));
        assert!(!dir.join("runs").exists(), "nothing may be written: {}", text(&out));
    }
    let dir = workspace("refuse-set", HALVING);
    let out = eegrun(&dir, &["x.toml", "--set", "val_fraction=0"]);
    assert!(text(&out).contains("leaks"), "{}", text(&out));
    let out = eegrun(&dir, &["x.toml", "--set", "search.early_stopping.reduction_factor=1"]);
    assert!(
        text(&out).contains("reduction_factor must be an integer from 2 to 100"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_search_whose_runs_fail_stops_with_their_errors() {
    // lr from 1e29 to 1e30 diverges in the first epoch: every run fails.
    let dir = workspace(
        "fail",
        &HALVING.replace(
            "lr = { log_uniform = [1e-4, 1e-1] }",
            "lr = { log_uniform = [1e29, 1e30] }",
        ),
    );
    let out = eegrun(&dir, &["x.toml", "--jobs", "2", "--threads", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("the search cannot go on: the 6 runs of round 1, rung 1"),
        "{said}"
    );
    assert!(
        said.contains("training loss is NaN") && said.contains("--retry-failed"),
        "{said}"
    );
    assert!(run_dirs(&dir)
        .iter()
        .all(|r| json(&r.join("status.json"))["attempts"] == 1));
    // Without --retry-failed they are not retrained; with it they are (and fail again).
    let again = eegrun(&dir, &["x.toml"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(run_dirs(&dir)
        .iter()
        .all(|r| json(&r.join("status.json"))["attempts"] == 1));
    let retry = eegrun(&dir, &["x.toml", "--retry-failed"]);
    assert_eq!(retry.status.code(), Some(1));
    assert!(run_dirs(&dir)
        .iter()
        .all(|r| json(&r.join("status.json"))["attempts"] == 2));
}

#[test]
fn a_search_s_findings_follow_its_choice_and_restate_no_lab_claims() {
    // TPE without early stopping: every sample trains fully, the search chooses one by
    // validation accuracy, and dropout varies (the lab's dropout claims must not be restated).
    let body = r#"
name = "sh"
data = "synthetic:1:120"
[defaults]
epochs = 2
batch_size = 16
val_fraction = 0.25
[search]
samples = 4
seed = 3
sampler = "tpe"
rounds = 2
dropout = { uniform = [0.0, 0.9] }
"#;
    let dir = workspace("findings", body);
    run_search(&dir, &["--jobs", "2", "--threads", "1"]);
    let out = eegrun(&dir, &["summarize", "runs", "--no-plots"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("report claims"), "{}", text(&out));
    let findings = json(&dir.join("runs/findings.json"));
    let study = &findings["studies"][0];
    assert_eq!(study["kind"], "search", "{findings}");
    let chosen = study["chosen"].as_str().expect("the chosen configuration");
    let comparisons = study["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 3, "the chosen one against the 3 others: {findings}");
    assert!(comparisons.iter().all(|c| c["a"] == chosen), "{findings}");
    assert_eq!(study["claims"].as_array().unwrap().len(), 0);
    assert!(
        study["headline"].as_str().unwrap().contains("the search chose"),
        "{findings}"
    );
    // The search is complete: an id it does not have is an error, not "nothing to train".
    let unknown = eegrun(&dir, &["x.toml", "--run-id", "000000000000"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("is not a run of search 'sh'"),
        "{}",
        text(&unknown)
    );
}
