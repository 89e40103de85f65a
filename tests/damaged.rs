//! Damaged run folders: every file of a finished and of a partial run — missing, empty,
//! truncated, one byte flipped, one digit changed. Whatever the damage, eegrun never panics, never reports a
//! damaged run's numbers as if they were sound, never changes a finished run's results
//! unasked, and `run --retry-failed` (then `run`) ends with exactly the metrics of an
//! undamaged run.

mod common;

use common::Scratch;

use dfdx::prelude::Cpu;
use eegrun::data::Source;
use eegrun::experiment::Experiment;
use eegrun::nn::train::Trainer;
use eegrun::store::{State, Status};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXPERIMENT: &str = "name = \"d\"\ndata = \"synthetic:1:16\"\n[defaults]\nepochs = 3\nbatch_size = 8\n";
const FILES: [&str; 5] = [
    "config.json",
    "status.json",
    "metrics.csv",
    "predictions.csv",
    "checkpoint.bin",
];

fn eegrun(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .current_dir(dir)
        .args(args)
        .args(["--threads", "1"].iter().filter(|_| args.first() == Some(&"x.toml")))
        .output()
        .expect("run eegrun")
}

/// The state word that `--dry-run` lists for the (only) run: done, partial, inconsistent:, …
fn listed_state(listing: &Output) -> String {
    let text = String::from_utf8_lossy(&listing.stdout);
    let line = text.lines().find(|l| l.starts_with("  ")).unwrap_or_default();
    line.split_whitespace().nth(1).unwrap_or_default().to_string()
}

fn no_panic(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && matches!(out.status.code(), Some(0 | 1)),
        "{what}: {:?} {err}",
        out.status
    );
    if out.status.code() == Some(1) {
        assert!(
            err.lines().last().unwrap_or_default().starts_with("error: "),
            "{what}: {err}"
        );
    }
}

fn workspace(name: &str) -> Scratch {
    let dir = Scratch::new(&format!("damaged-{name}"));
    std::fs::write(dir.join("x.toml"), EXPERIMENT).unwrap();
    dir
}

/// The only run folder of experiment `d` under `dir/runs`.
fn run_dir(dir: &Path) -> PathBuf {
    common::run_folders(&dir.join("runs/d")).remove(0)
}

/// metrics.csv without the timing columns.
fn results(run: &Path) -> String {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').take(7).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (status, best_test_acc) of the run rows in summary.csv.
fn summary_rows(dir: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(dir.join("runs/summary.csv")) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (status, best) = (column("status"), column("best_test_acc"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[status].to_string(), f[best].to_string())
        })
        .collect()
}

/// A partial run as a kill after epoch 1 leaves it: checkpoint, metrics, status "running".
fn make_partial(dir: &Path) {
    let experiment = Experiment::load(&dir.join("x.toml")).unwrap();
    let data = Source::parse("synthetic:1:16").unwrap().load().unwrap();
    let run = eegrun::schedule::plan(&experiment.name, experiment.runs().unwrap(), &data, &dir.join("runs"))
        .unwrap()
        .remove(0);
    let mut trainer = Trainer::new(Cpu::default(), run.record.config, &data).unwrap();
    trainer.run_epoch().unwrap();
    trainer.save_checkpoint(&run.dir.checkpoint()).unwrap();
    run.dir.write_record(&run.record).unwrap();
    let mut status = Status::new(3);
    status.state = State::Running;
    status.attempts = 1;
    status.epochs_done = 1;
    status.summary = trainer.summary();
    status.predictions_sha256 = Some(run.dir.write_predictions(&trainer.predictions).unwrap());
    status.metrics_sha256 = Some(run.dir.write_metrics(&trainer.history).unwrap());
    run.dir.write_status(&status).unwrap();
}

fn damage(path: &Path, how: &str) {
    let bytes = std::fs::read(path).unwrap();
    match how {
        "missing" => std::fs::remove_file(path).unwrap(),
        "empty" => std::fs::write(path, b"").unwrap(),
        "truncated" => std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap(),
        "digit" => {
            // Another digit in the middle of the file: it still parses, a value changed.
            // In metrics.csv: the last digit of epoch 1's test_loss (a result, not a timing).
            let mut bytes = bytes;
            let start = match path.extension().and_then(|e| e.to_str()) {
                Some("csv") => {
                    let line = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
                    let commas: Vec<usize> = (line..bytes.len()).filter(|&i| bytes[i] == b',').take(4).collect();
                    commas[3] - 1
                }
                _ => bytes.len() / 2,
            };
            let at = (start..bytes.len()).find(|&i| bytes[i].is_ascii_digit()).unwrap();
            bytes[at] = b'0' + (bytes[at] - b'0' + 1) % 10;
            std::fs::write(path, bytes).unwrap();
        }
        "flipped" => {
            let mut bytes = bytes;
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
            std::fs::write(path, bytes).unwrap();
        }
        _ => unreachable!(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn damaged_run_folders_are_detected_and_rebuilt_exactly() {
    let reference = workspace("reference");
    assert!(eegrun(&reference, &["x.toml"]).status.success());
    let done_run = run_dir(&reference);
    let want = results(&done_run);
    assert!(eegrun(&reference, &["summarize", "runs", "--no-plots"])
        .status
        .success());
    let want_best = summary_rows(&reference)[0].1.clone();
    let partial = workspace("partial-template");
    make_partial(&partial);
    let partial_run = run_dir(&partial);

    let mut undetected = Vec::new();
    for (kind, template) in [("done", &done_run), ("partial", &partial_run)] {
        for file in FILES {
            for how in ["missing", "empty", "truncated", "flipped", "digit"] {
                let case = format!("{kind}-{file}-{how}");
                let dir = workspace(&case);
                let run = dir.join("runs/d").join(template.file_name().unwrap());
                copy_dir(template, &run);
                damage(&run.join(file), how);
                let before = std::fs::read(run.join("metrics.csv")).ok();

                let listing = eegrun(&dir, &["x.toml", "--dry-run"]);
                no_panic(&listing, &case);
                assert_eq!(listing.status.code(), Some(0), "{case}");
                let listed = listed_state(&listing);

                no_panic(&eegrun(&dir, &["summarize", "runs", "--no-plots"]), &case);
                for (status, best) in summary_rows(&dir) {
                    if status == "done" {
                        assert_eq!(best, want_best, "{case}: a damaged run summarised as done");
                    }
                }

                let first = eegrun(&dir, &["x.toml"]);
                no_panic(&first, &case);
                if kind == "done" && listed == "done" {
                    // Judged intact (e.g. only the checkpoint was damaged): nothing may change.
                    assert!(first.status.success(), "{case}");
                    assert_eq!(std::fs::read(run.join("metrics.csv")).ok(), before, "{case}");
                    if file != "checkpoint.bin" {
                        undetected.push(case.clone());
                    }
                }
                if !first.status.success() {
                    no_panic(&eegrun(&dir, &["x.toml", "--retry-failed"]), &case);
                    let last = eegrun(&dir, &["x.toml"]);
                    assert!(
                        last.status.success(),
                        "{case}: {}",
                        String::from_utf8_lossy(&last.stderr)
                    );
                }
                assert_eq!(results(&run), want, "{case}: rebuilt metrics differ");
                assert_eq!(listed_state(&eegrun(&dir, &["x.toml", "--dry-run"])), "done", "{case}");
            }
        }
    }
    // Damage to a finished run's config, status or metrics that leaves it "done" must be
    // harmless (a flipped byte in a field that holds no result, such as the host name).
    for case in &undetected {
        assert!(
            case.ends_with("flipped") || case.ends_with("digit"),
            "undetected damage: {case}"
        );
    }
}
