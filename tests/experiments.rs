//! Experiment files and the scheduler, end to end through the binary on tiny synthetic
//! grids: expansion, overrides, dry runs, skipping finished runs, resume after SIGKILL, a
//! failed run among good ones, two processes on one runs folder, and a corpus of
//! malformed files each with its own error.

mod common;

use common::{eegrun, Scratch};

use eegrun::experiment::Experiment;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A fresh folder holding `x.toml` with the given body.
fn workspace(name: &str, body: &str) -> Scratch {
    let dir = Scratch::new(&format!("exp-{name}"));
    std::fs::write(dir.join("x.toml"), body).unwrap();
    dir
}

/// Run folders of experiment `name` under `dir/runs`.
fn run_dirs(dir: &Path, name: &str) -> Vec<PathBuf> {
    common::run_folders(&dir.join("runs").join(name))
}

fn status(run: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(run.join("status.json")).unwrap()).unwrap()
}

/// metrics.csv without the timing columns.
fn metrics(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').take(7).collect::<Vec<_>>().join(","))
        .collect()
}

const TINY: &str = r#"
name = "tiny"
data = "synthetic:1:96"
[defaults]
epochs = 2
batch_size = 32
[grid]
model = ["eegnet"]
activation = ["relu", "elu"]
"#;

#[test]
fn malformed_files_each_give_their_own_located_error() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/experiments/bad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 20, "corpus has {} files", files.len());
    let mut messages = std::collections::HashSet::new();
    for file in &files {
        let body = std::fs::read_to_string(file).unwrap();
        let expect = body
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .expect("# expect: line");
        let error = format!(
            "{:#}",
            Experiment::load(file)
                .err()
                .unwrap_or_else(|| panic!("{} was accepted", file.display()))
        );
        assert!(
            error.contains(expect),
            "{}:\n  expected: {expect}\n  got: {error}",
            file.display()
        );
        assert!(
            error.starts_with(&format!("{}:", file.display())),
            "{}: error does not name the file: {error}",
            file.display()
        );
        assert_eq!(error.lines().count(), 1, "{}: {error}", file.display());
        if let Some(line) = body.lines().find_map(|l| l.strip_prefix("# line: ")) {
            assert!(
                error.contains(&format!(":{line}:")),
                "{}: expected line {line}: {error}",
                file.display()
            );
        }
        messages.insert(error.split_once(": ").map(|x| x.1.to_string()).unwrap());
    }
    assert_eq!(
        messages.len(),
        files.len(),
        "every malformed file has a distinct message"
    );
}

#[test]
fn shipped_experiments_are_valid() {
    for (file, runs) in [
        ("activations", 60),
        ("dropout", 120),
        ("quickstart", 2),
        ("search-halving", 27),
        ("architecture", 24),
        // Per configuration and seed; each becomes a run per subject or fold once the data
        // is read (tests/subjects.rs).
        ("within-subject", 6),
        ("cross-subject", 6),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("experiments/{file}.toml"));
        let experiment = Experiment::load(&path).unwrap();
        assert_eq!(experiment.runs().unwrap().len(), runs, "{file}");
    }
    // The TPE variant its comment gives: 3 rounds of 9, the first drawn before any result.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/search-halving.toml");
    let mut tpe = Experiment::load(&path).unwrap();
    tpe.apply_overrides(&["search.sampler=tpe".into(), "search.rounds=3".into()])
        .unwrap();
    assert_eq!(tpe.round_runs(0, &[]).unwrap().len(), 9);
    assert!(tpe.runs().is_err(), "TPE rounds cannot be expanded up front");
}

#[test]
fn grid_and_search_expand_with_overrides_and_stable_ids() {
    let dir = workspace(
        "expand",
        r#"
name = "expand"
data = "synthetic:1:96"
[grid]
model = ["eegnet", "deepconvnet"]
seed = [0, 1]
[search]
samples = 2
seed = 7
lr = { log_uniform = [1e-4, 1e-2] }
dropout = { uniform = [0.0, 0.5] }
"#,
    );
    let out = eegrun(&dir, &["x.toml", "--dry-run"]);
    let listing = text(&out);
    assert!(out.status.success(), "{listing}");
    assert!(listing.contains("8 runs"), "{listing}");
    assert_eq!(listing.matches("pending").count(), 8, "{listing}");
    // The cost estimate is a fresh measurement each time: the runs and ids are what repeat.
    let runs_of = |listing: &str| -> String {
        listing
            .lines()
            .filter(|l| !l.starts_with("estimated cost"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        runs_of(&listing),
        runs_of(&text(&eegrun(&dir, &["x.toml", "--dry-run"]))),
        "same file → same runs and ids"
    );

    let out = eegrun(
        &dir,
        &[
            "run",
            "x.toml",
            "--dry-run",
            "--set",
            "epochs=1",
            "--set",
            "activation=[relu,elu]",
        ],
    );
    let overridden = text(&out);
    assert!(
        overridden.contains("16 runs") && overridden.contains("activation=elu"),
        "{overridden}"
    );
    let first_id = |s: &str| s.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert_ne!(
        first_id(&listing),
        first_id(&overridden),
        "a changed field makes a new run"
    );

    let out = eegrun(&dir, &["x.toml", "--set", "dropout=2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("--set dropout: dropout must be in [0, 1), got 2"),
        "{}",
        text(&out)
    );
}

#[test]
fn finished_runs_are_skipped() {
    let dir = workspace("skip", TINY);
    let out = eegrun(&dir, &["x.toml", "--jobs", "2", "--threads", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("highest test acc (%)"), "{}", text(&out));
    let runs = run_dirs(&dir, "tiny");
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert_eq!(status(run)["state"], "done");
        assert_eq!(metrics(run).len(), 3, "header + 2 epochs");
    }
    let before: Vec<Vec<String>> = runs.iter().map(|r| metrics(r)).collect();
    let again = eegrun(&dir, &["x.toml"]);
    assert!(again.status.success());
    assert!(text(&again).contains("0 runs to train, 2 skipped"), "{}", text(&again));
    assert_eq!(runs.iter().map(|r| metrics(r)).collect::<Vec<_>>(), before);
    assert!(runs.iter().all(|r| status(r)["attempts"] == 1));
    let listing = text(&eegrun(&dir, &["x.toml", "--dry-run"]));
    assert_eq!(listing.matches(" done ").count(), 2, "{listing}");
}

/// Every stored number of a run: metrics.csv without its timing columns, byte for byte,
/// the summary in status.json, and predictions.csv.
fn stored_numbers(run: &Path) -> (Vec<String>, serde_json::Value, String) {
    let predictions = std::fs::read_to_string(run.join("predictions.csv")).unwrap();
    (metrics(run), status(run)["summary"].clone(), predictions)
}

#[test]
fn a_killed_sweep_resumes_to_identical_metrics() {
    // 108 trials and lr 0.01 give numbers with 17 significant digits (13/27 =
    // 0.48148148148148145, losses such as 0.9804900708021941) that a lossy float parser
    // does not read back exactly.
    let body = TINY
        .replace("epochs = 2", "epochs = 5\nlr = 0.01")
        .replace(":96", ":108")
        + "seed = [0, 1]\n";
    let reference = workspace("resume-ref", &body);
    assert!(eegrun(&reference, &["x.toml", "--threads", "1", "--jobs", "2"])
        .status
        .success());
    let want: Vec<_> = run_dirs(&reference, "tiny").iter().map(|r| stored_numbers(r)).collect();
    assert_eq!(want.len(), 4);

    let dir = workspace("resume", &body);
    // Kill -9 three times, each after a different number of recorded epochs, then finish.
    for (kill, epochs_seen) in [(1, 1), (2, 4), (3, 9)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eegrun"))
            .current_dir(&dir)
            .args(["x.toml", "--threads", "1", "--jobs", "2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        loop {
            let recorded: usize = run_dirs(&dir, "tiny")
                .iter()
                .filter(|r| r.join("metrics.csv").exists())
                .map(|r| metrics(r).len().saturating_sub(1))
                .sum();
            if recorded >= epochs_seen || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(started.elapsed().as_secs() < 120, "kill {kill}: no progress");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
    }
    let listing = text(&eegrun(&dir, &["x.toml", "--dry-run"]));
    assert!(
        !listing.contains("inconsistent") && !listing.contains("unreadable"),
        "{listing}"
    );

    let out = eegrun(&dir, &["x.toml", "--threads", "1", "--jobs", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    let got: Vec<_> = run_dirs(&dir, "tiny").iter().map(|r| stored_numbers(r)).collect();
    assert_eq!(got, want, "resumed runs differ from uninterrupted ones");
    assert!(run_dirs(&dir, "tiny")
        .iter()
        .any(|r| status(r)["attempts"].as_u64() > Some(1)));
}

#[test]
fn a_failed_run_does_not_stop_the_others() {
    // lr 1e30 diverges in the first epoch: that run fails, the other finishes.
    let dir = workspace(
        "fail",
        &TINY.replace(r#"activation = ["relu", "elu"]"#, "lr = [0.001, 1e30]"),
    );
    let out = eegrun(&dir, &["x.toml", "--jobs", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("1 of 2 runs failed"), "{}", text(&out));
    let states: Vec<(String, Option<String>)> = run_dirs(&dir, "tiny")
        .iter()
        .map(|r| {
            let s = status(r);
            (
                s["state"].as_str().unwrap().to_string(),
                s["error"].as_str().map(String::from),
            )
        })
        .collect();
    assert!(states.iter().any(|(s, _)| s == "done"), "{states:?}");
    let failed = states.iter().find(|(s, _)| s == "failed").expect("a failed run");
    assert!(
        failed.1.as_deref().unwrap().contains("training loss is NaN"),
        "{states:?}"
    );

    let retry = eegrun(&dir, &["x.toml", "--retry-failed"]);
    assert_eq!(retry.status.code(), Some(1));
    assert!(text(&retry).contains("1 runs to train, 1 skipped"), "{}", text(&retry));
}

#[test]
fn two_processes_never_train_the_same_run() {
    let dir = workspace(
        "concurrent",
        &TINY
            .replace("epochs = 2", "epochs = 1")
            .replace(r#"model = ["eegnet"]"#, "seed = [0, 1, 2]"),
    );
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_eegrun"))
            .current_dir(&dir)
            .args(["x.toml", "--jobs", "1", "--threads", "1"])
            .output()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    let runs = run_dirs(&dir, "tiny");
    assert_eq!(runs.len(), 6);
    for run in &runs {
        let s = status(run);
        assert_eq!(s["state"], "done", "{}", run.display());
        assert_eq!(s["attempts"], 1, "{} was trained twice", run.display());
    }
    // Whichever process found a run locked reports it; a rerun trains nothing.
    assert!(a.status.success() || b.status.success(), "{}\n{}", text(&a), text(&b));
    let again = eegrun(&dir, &["x.toml"]);
    assert!(
        again.status.success() && text(&again).contains("0 runs to train, 6 skipped"),
        "{}",
        text(&again)
    );
}

#[test]
fn a_validation_split_that_would_be_empty_is_refused_before_anything_trains() {
    for (fraction, expect) in [("0.001", "holds out 0 of the"), ("0.999", "leaving none to train on")] {
        let dir = workspace(
            &format!("val{fraction}"),
            &TINY.replace("epochs = 2", &format!("epochs = 2\nval_fraction = {fraction}")),
        );
        let out = eegrun(&dir, &["x.toml"]);
        assert!(
            !out.status.success() && text(&out).contains(expect),
            "{fraction}: {}",
            text(&out)
        );
        assert!(run_dirs(&dir, "tiny").is_empty(), "{fraction}: a run folder was made");
        let single = eegrun(
            &dir,
            &[
                "train",
                "--data",
                "synthetic:1:96",
                "--epochs",
                "1",
                "--val-fraction",
                fraction,
            ],
        );
        assert!(
            !single.status.success() && text(&single).contains(expect),
            "{}",
            text(&single)
        );
    }
}

#[test]
fn a_checkpoint_that_cannot_be_read_is_left_in_place_not_called_damaged() {
    // A checkpoint.bin that is a folder cannot be read (as root, permissions cannot stop a
    // read; the class is the same: an io error, not damaged contents).
    let dir = workspace(
        "unreadable-checkpoint",
        &TINY.replace(r#"activation = ["relu", "elu"]"#, ""),
    );
    let listing = text(&eegrun(&dir, &["x.toml", "--dry-run"]));
    let id = listing
        .lines()
        .find_map(|l| l.split_whitespace().next().filter(|w| w.len() == 12))
        .expect("a run id");
    let checkpoint = dir.join("runs/tiny").join(id).join("checkpoint.bin");
    std::fs::create_dir_all(&checkpoint).unwrap();
    let out = eegrun(&dir, &["x.toml"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("left as it is"), "{}", text(&out));
    assert!(checkpoint.is_dir(), "the checkpoint was moved");
    let names: Vec<String> = std::fs::read_dir(checkpoint.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("damaged")), "{names:?}");
}
