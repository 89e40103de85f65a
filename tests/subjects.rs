//! Subjects as the units of a study: within-subject and cross-subject protocols give one run
//! per (configuration, seed, subject or fold) with its own id, pooled runs keep their ids,
//! protocols pair trial by trial in the findings, results are tabled per subject, and each
//! kind of bad input is refused before training with one line, leaving runs/ untouched.

mod common;

use common::{eegrun, run_folders, write_subject_data, Scratch, SUBJECTS};
use std::path::Path;

/// An experiment file `s.toml` in `dir` on the data in `dir/data`, with `extra` lines.
fn experiment(dir: &Path, top: &str, grid: &str) {
    std::fs::write(
        dir.join("s.toml"),
        format!(
            "name = \"s\"\ndata = \"data\"\n{top}\n[defaults]\nmodel = \"eegnet\"\nepochs = 1\nbatch_size = 8\n[grid]\nseed = [0, 1]\n{grid}\n"
        ),
    )
    .unwrap();
}

fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = eegrun(dir, args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn within_subject_trains_one_model_per_subject_and_tables_them() {
    let dir = Scratch::new("subjects-within");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    write_subject_data(&dir.join("data"), None, None);
    experiment(
        &dir,
        "protocol = \"within-subject\"",
        "activation = [\"relu\", \"elu\"]",
    );
    let (ok, out, err) = run(&dir, &["run", "s.toml", "--dry-run"]);
    assert!(ok, "{err}");
    assert!(out.contains("16 runs"), "2 activations × 2 seeds × 4 subjects: {out}");
    assert!(
        out.contains("estimated cost: 16 runs with epochs left, about") && out.contains("1 kind of run"),
        "{out}"
    );
    for s in SUBJECTS {
        assert_eq!(out.matches(&format!("[subject {s}]")).count(), 4, "{out}");
    }
    let (ok, _, err) = run(&dir, &["run", "s.toml", "--jobs", "2"]);
    assert!(ok, "{err}");
    let folders = run_folders(&dir.join("runs/s"));
    assert_eq!(folders.len(), 16);
    let record = std::fs::read_to_string(folders[0].join("config.json")).unwrap();
    assert!(
        record.contains("\"protocol\": \"within-subject\"") && record.contains("\"unit\""),
        "{record}"
    );
    let (ok, out, err) = run(&dir, &["summarize", "runs"]);
    assert!(ok, "{err}");
    assert!(out.contains("s per subject:") && out.contains("above chance"), "{out}");
    for s in SUBJECTS {
        assert!(out.lines().any(|l| l.starts_with(s)), "a row for {s}: {out}");
    }
    assert!(
        out.contains("new subjects like this test set's 4") && out.contains("paired t over 4 subjects, 2 seeds each"),
        "{out}"
    );
    let csv = std::fs::read_to_string(dir.join("runs/subjects.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4 * 2, "{csv}");
    // The subjects figure: each subject's point of a configuration links to a run of that
    // subject and configuration (points at one x: one configuration, every subject).
    let svg = std::fs::read_to_string(dir.join("runs/plots/s-subjects.svg")).unwrap();
    let mut at_x: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for linked in svg.split("<a href=\"#run-").skip(1) {
        let id = linked.split('"').next().unwrap();
        let x = linked.split("cx=\"").nth(1).unwrap().split('"').next().unwrap();
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("runs/s").join(id).join("config.json")).unwrap()).unwrap();
        let activation = record["config"]["activation"].to_string();
        let unit = record["unit"].to_string();
        at_x.entry(x.to_string()).or_default().push((activation, unit));
    }
    assert_eq!(at_x.len(), 2, "{at_x:?}");
    for points in at_x.values() {
        assert_eq!(points.len(), 4, "a point per subject: {points:?}");
        assert!(
            points.iter().all(|p| p.0 == points[0].0),
            "one configuration: {points:?}"
        );
        let units: std::collections::BTreeSet<&String> = points.iter().map(|p| &p.1).collect();
        assert_eq!(units.len(), 4, "every subject once: {points:?}");
    }
    let summary = std::fs::read_to_string(dir.join("runs/summary.csv")).unwrap();
    assert!(
        summary.lines().next().unwrap().contains("protocol,subject,fold"),
        "{summary}"
    );
}

/// A within-subject grid (2 activations × 2 dropouts × 2 seeds) trained on the subjects'
/// data, or on the same trials all named S001, and summarized: what `summarize` printed
/// and the study's factorial findings.
fn per_subject_grid(name: &str, one_subject: bool) -> (String, serde_json::Value) {
    let dir = Scratch::new(name);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    write_subject_data(&dir.join("data"), None, None);
    for csv in ["trials_train.csv", "trials_test.csv"]
        .into_iter()
        .filter(|_| one_subject)
    {
        let path = dir.join("data").join(csv);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, SUBJECTS.iter().fold(text, |t, s| t.replace(s, "S001"))).unwrap();
    }
    experiment(
        &dir,
        "protocol = \"within-subject\"",
        "activation = [\"relu\", \"elu\"]\ndropout = [0.25, 0.5]",
    );
    let (ok, _, err) = run(&dir, &["run", "s.toml", "--jobs", "2"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&dir, &["summarize", "runs", "--no-plots"]);
    assert!(ok, "{err}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("runs/findings.json")).unwrap()).unwrap();
    (out, json["studies"][0]["factorial"].clone())
}

#[test]
fn a_grid_of_per_subject_models_takes_each_subject_as_one_block() {
    // 4 subjects: a subject's two seeds share its test set, so the grid's blocks are the 4
    // subjects (their seeds averaged), not 8 (seed, subject) pairs: residual df
    // (4 − 1)(4 − 1) = 9, not (4 − 1)(8 − 1) = 21.
    let (out, factorial) = per_subject_grid("subjects-grid", false);
    assert!(out.contains("Main effects — s eegnet"), "{out}");
    assert_eq!(factorial["blocks"], 4, "{factorial}");
    assert_eq!(factorial["residual_df"], 9.0, "{factorial}");
    assert!(
        factorial["method"]
            .as_str()
            .unwrap()
            .contains("a unit (the mean of its seeds) is one block"),
        "{factorial}"
    );
    // Data of one subject: its seeds share its test set, and nothing generalizes to new
    // subjects from one, so nothing is decided (as the pairwise rule over subjects).
    let (out, factorial) = per_subject_grid("subjects-grid-one", true);
    assert_eq!(factorial["residual_df"], 0.0, "{factorial}\n{out}");
    assert!(
        factorial["method"].as_str().unwrap().contains("fewer than 2 units"),
        "{factorial}"
    );
    for effect in factorial["main_effects"].as_array().unwrap() {
        for contrast in effect["contrasts"].as_array().unwrap() {
            assert_eq!(contrast["verdict"], "undecided", "{contrast}");
        }
    }
}

#[test]
fn cross_subject_folds_are_contiguous_blocks_and_pooled_ids_do_not_move() {
    let dir = Scratch::new("subjects-cross");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    write_subject_data(&dir.join("data"), None, None);
    experiment(&dir, "protocol = \"cross-subject\"\nfolds = 2", "");
    let (ok, out, err) = run(&dir, &["run", "s.toml", "--dry-run"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("[fold 1/2, held out: S001 S002]") && out.contains("[fold 2/2, held out: S003 S004]"),
        "{out}"
    );
    // Leave-one-subject-out by default: one fold per subject.
    let (ok, out, _) = run(&dir, &["run", "s.toml", "--dry-run", "--set", "folds=4"]);
    assert!(
        ok && out.contains("8 runs") && out.contains("[fold 4/4, held out: S004]"),
        "{out}"
    );
    // A pooled run is named as it always was: writing protocol = "pooled" moves no id.
    experiment(&dir, "", "");
    let (_, plain, _) = run(&dir, &["run", "s.toml", "--dry-run"]);
    experiment(&dir, "protocol = \"pooled\"", "");
    let (_, pooled, _) = run(&dir, &["run", "s.toml", "--dry-run"]);
    let ids = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next().map(String::from))
            .collect()
    };
    assert_eq!(ids(&plain), ids(&pooled));
    assert_eq!(ids(&plain).len(), 2);
}

#[test]
fn protocols_compare_paired_trial_by_trial() {
    let dir = Scratch::new("subjects-paired");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    write_subject_data(&dir.join("data"), None, None);
    experiment(&dir, "", "protocol = [\"pooled\", \"within-subject\"]");
    let (ok, _, err) = run(&dir, &["run", "s.toml"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&dir, &["summarize", "runs"]);
    assert!(ok, "{err}");
    assert!(
        out.lines().any(|l| l.contains("protocol pooled")
            && l.contains("protocol within-subject")
            && l.contains("paired t over 4 subjects, 2 seeds each, 16 test trials")),
        "{out}"
    );
}

#[test]
fn bad_protocols_and_subjects_are_refused_before_training() {
    let dir = Scratch::new("subjects-bad");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    write_subject_data(&dir.join("data"), None, None);
    let refused = |top: &str, grid: &str, expected: &str| {
        experiment(&dir, top, grid);
        let (ok, _, err) = run(&dir, &["run", "s.toml"]);
        assert!(!ok && err.contains(expected), "{top} {grid}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!dir.join("runs").exists(), "{top}: runs/ was written");
    };
    refused(
        "protocol = \"leave-one-out\"",
        "",
        "expected one of pooled, within-subject, cross-subject",
    );
    refused("protocol = \"cross-subject\"\nfolds = 5", "", "folds = 5");
    refused(
        "protocol = \"cross-subject\"\nfolds = 1",
        "",
        "folds must be at least 2",
    );
    refused("subjects = [\"S001\", \"S001\"]", "", "S001 is listed twice");
    refused("subjects = [\"S009\"]", "", "S009 is not in");
    write_subject_data(&dir.join("data"), Some("S003"), None);
    refused("protocol = \"within-subject\"", "", "subject S003 has no test trials");
    write_subject_data(&dir.join("data"), None, Some("S002"));
    refused(
        "protocol = \"within-subject\"",
        "",
        "S002 has no training trials of class 2",
    );
    write_subject_data(&dir.join("data"), None, None);
    std::fs::remove_file(dir.join("data/trials_train.csv")).unwrap();
    refused("protocol = \"within-subject\"", "", "needs each trial's subject");
}

#[test]
fn seed_rounds_add_seeds_to_every_subject_and_count_their_runs() {
    let dir = Scratch::new("subjects-rounds");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    write_subject_data(&dir.join("data"), None, None);
    std::fs::write(
        dir.join("r.toml"),
        "name = \"r\"\ndata = \"data\"\nprotocol = \"within-subject\"\n[defaults]\nmodel = \"eegnet\"\nepochs = 1\nbatch_size = 8\n\
         [grid]\nactivation = [\"relu\", \"elu\"]\n[seeds]\nuntil = \"decided\"\nstart = 2\nstep = 1\nmax = 3\n",
    )
    .unwrap();
    let (ok, out, err) = run(&dir, &["run", "r.toml", "--jobs", "2"]);
    assert!(ok, "{err}");
    let folders = run_folders(&dir.join("runs/r"));
    // 2 configurations × 4 subjects × (2 or 3 seeds), and the closing line counts runs.
    assert!([16, 20, 24].contains(&folders.len()), "{}", folders.len());
    assert!(
        out.contains(&format!(
            "{} runs trained instead of 24 for 3 seeds each",
            folders.len()
        )),
        "{out}"
    );
    // A sampled search runs as a grid, a run per subject.
    let search = "name = \"s\"\ndata = \"data\"\nprotocol = \"within-subject\"\n[defaults]\nmodel = \"eegnet\"\nepochs = 2\nbatch_size = 8\nval_fraction = 0.25\n\
         [search]\nsamples = 2\nseed = 1\nlr = { log_uniform = [1e-4, 1e-2] }\n";
    std::fs::write(dir.join("s.toml"), search).unwrap();
    let (ok, out, err) = run(&dir, &["run", "s.toml", "--dry-run"]);
    assert!(ok && out.contains("8 runs"), "2 samples × 4 subjects: {out}{err}");
    let halving = format!(
        "{search}[search.early_stopping]\nkind = \"successive_halving\"\nmin_epochs = 1\nreduction_factor = 2\n"
    );
    // One that chooses by results (successive halving) is nested in each subject: a search
    // of its own on that subject's trials, in its own folder.
    std::fs::write(dir.join("s.toml"), &halving).unwrap();
    let (ok, out, err) = run(&dir, &["run", "s.toml"]);
    assert!(ok, "{err}");
    assert!(out.contains("a search nested in each of 4 subjects"), "{out}");
    for s in SUBJECTS {
        let folder = dir.join(format!("runs/s@{s}"));
        assert!(folder.join("search.json").is_file(), "{s}: {out}");
        assert_eq!(run_folders(&folder).len(), 2, "{s}: 2 samples");
    }
    // It takes one protocol, and runs whole (not as a job array).
    let axis = halving.replace("protocol = \"within-subject\"\n", "").replace(
        "[search]",
        "[grid]\nprotocol = [\"pooled\", \"within-subject\"]\n[search]",
    );
    std::fs::write(dir.join("s.toml"), axis).unwrap();
    let (ok, _, err) = run(&dir, &["run", "s.toml"]);
    assert!(!ok && err.contains("so it takes one protocol"), "{err}");
    std::fs::write(dir.join("s.toml"), &halving).unwrap();
    let (ok, _, err) = run(&dir, &["slurm", "s.toml", "--dry-run"]);
    assert!(!ok && err.contains("not as a job array"), "{err}");
}

#[test]
fn a_study_over_two_data_sets_keeps_each_and_combines_their_verdicts() {
    let dir = Scratch::new("subjects-data-sets");
    std::fs::write(
        dir.join("d.toml"),
        "name = \"d\"\ndata = [\"synthetic:0:40\", \"synthetic:1:48:4x128x3\"]\n[defaults]\nmodel = \"eegnet\"\nepochs = 1\nbatch_size = 8\n\
         [grid]\nactivation = [\"relu\", \"elu\"]\nseed = [0, 1, 2]\n",
    )
    .unwrap();
    let (ok, out, err) = run(&dir, &["run", "d.toml", "--jobs", "2"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("experiment d@synthetic-0-40") && out.contains("experiment d@synthetic-1-48-4x128x3"),
        "{out}"
    );
    assert_eq!(run_folders(&dir.join("runs/d@synthetic-0-40")).len(), 6);
    assert_eq!(run_folders(&dir.join("runs/d@synthetic-1-48-4x128x3")).len(), 6);
    let (ok, out, err) = run(&dir, &["summarize", "runs", "--no-plots"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("d eegnet across 2 data sets — Stouffer's weighted Z"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("  relu") && l.contains("synthetic-0-40") && l.contains("synthetic-1-48-4x128x3")),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("runs/findings.json")).unwrap()).unwrap();
    assert_eq!(json["combined"].as_array().map(Vec::len), Some(1), "{json}");
    // One data set at a time where a command takes one; a source listed twice is refused.
    let (ok, out, _) = run(&dir, &["run", "d.toml", "--dry-run", "--data", "synthetic:0:40"]);
    assert!(ok && out.contains("experiment d (") && out.contains("6 runs"), "{out}");
    std::fs::write(
        dir.join("t.toml"),
        "name = \"t\"\ndata = [\"synthetic:0:40\", \"synthetic:0:40\"]\n",
    )
    .unwrap();
    let (ok, _, err) = run(&dir, &["run", "t.toml"]);
    assert!(
        !ok && err.contains("t.toml:2:8: data: synthetic:0:40 is listed twice"),
        "{err}"
    );
}

#[test]
fn models_are_compared_per_subject() {
    let dir = Scratch::new("subjects-models");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    write_subject_data(&dir.join("data"), None, None);
    experiment(
        &dir,
        "protocol = \"within-subject\"",
        "model = [\"eegnet\", \"deepconvnet\"]",
    );
    let (ok, _, err) = run(&dir, &["run", "s.toml", "--jobs", "2"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&dir, &["summarize", "runs", "--no-plots"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("s per subject, models compared — claims about new subjects like these 4 subjects")
            && out.contains("Holm over 1 pair of configurations of different models"),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.contains("eegnet relu")
            && l.contains("deepconvnet relu")
            && l.contains("paired t over 4 subjects, 2 seeds each")),
        "{out}"
    );
}
