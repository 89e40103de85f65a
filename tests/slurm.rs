//! `eegrun slurm` against a real single-node Slurm (Debian's slurm-wlm and munge, started
//! by tests/slurm/cluster.sh): a 4-run × 2-epoch synthetic grid goes through a job array,
//! lands in the run store, and summarises; then an early-stopping search runs unattended as
//! a chain of arrays. Skips, saying why, where Slurm is unavailable.

mod common;

use common::Scratch;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn eegrun(dir: &Path, conf: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eegrun"));
    command.current_dir(dir).args(args);
    if let Some(conf) = conf {
        command.env("SLURM_CONF", conf);
    }
    command.output().expect("run eegrun")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn workspace(name: &str) -> Scratch {
    let dir = Scratch::new(&format!("slurm-{name}"));
    std::fs::write(
        dir.join("grid.toml"),
        "name = \"grid\"\ndata = \"synthetic:1:64\"\n[defaults]\nepochs = 2\n[grid]\nactivation = [\"relu\", \"elu\"]\nseed = [0, 1]\n",
    )
    .unwrap();
    dir
}

/// Stops the cluster's daemons when dropped, whatever the test's outcome.
struct Cluster {
    state: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.state).status();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm/cluster.sh")
}

#[test]
fn a_missing_sbatch_is_a_clear_error() {
    let dir = workspace("nosbatch");
    let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .current_dir(&dir)
        .env("PATH", "/nonexistent")
        .args(["slurm", "grid.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("sbatch not found"), "{}", text(&out));
    let dry = eegrun(
        &dir,
        None,
        &[
            "slurm",
            "grid.toml",
            "--dry-run",
            "--partition",
            "gpu",
            "--gpus-per-task",
            "1",
        ],
    );
    let script = text(&dry);
    assert!(dry.status.success(), "{script}");
    for line in [
        "#SBATCH --array=0-3",
        "#SBATCH --partition=gpu",
        "#SBATCH --gpus-per-task=1",
        "--device cuda",
        "--run-id",
    ] {
        assert!(script.contains(line), "missing {line}: {script}");
    }
}

#[test]
fn a_job_array_trains_every_pending_run_once() {
    let dir = workspace("cluster");
    let state = dir.join("cluster");
    let started = Command::new(script()).arg("start").arg(&state).output().unwrap();
    if started.status.code() == Some(3) {
        eprintln!(
            "SKIP a_job_array_trains_every_pending_run_once: {}",
            text(&started).trim()
        );
        return;
    }
    let _cluster = Cluster { state: state.clone() };
    assert!(started.status.success(), "cluster did not start: {}", text(&started));
    let conf = state.join("slurm.conf");

    let rejected = eegrun(
        &dir,
        Some(&conf),
        &["slurm", "grid.toml", "--partition", "no-such-partition"],
    );
    assert_eq!(rejected.status.code(), Some(1), "{}", text(&rejected));
    assert!(
        text(&rejected).contains("sbatch rejected") && text(&rejected).contains("partition"),
        "{}",
        text(&rejected)
    );

    let submit = eegrun(
        &dir,
        Some(&conf),
        &["slurm", "grid.toml", "--cpus-per-task", "1", "--max-parallel", "2"],
    );
    let said = text(&submit);
    assert!(submit.status.success(), "{said}");
    let job = said
        .split("submitted job ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .expect("job id")
        .to_string();

    let start = Instant::now();
    loop {
        let queue = Command::new("squeue")
            .env("SLURM_CONF", &conf)
            .args(["-h", "-j", &job])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&queue.stdout).trim().is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "job {job} still queued: {}",
            text(&queue)
        );
        std::thread::sleep(Duration::from_secs(1));
    }

    let summary = eegrun(
        &dir,
        None,
        &[
            "summarize",
            "runs",
            "--no-plots",
            "--format",
            "csv",
            "--group-by",
            "activation",
        ],
    );
    let csv = text(&summary);
    assert!(summary.status.success(), "{csv}");
    assert!(csv.contains("elu,2,2 done") && csv.contains("relu,2,2 done"), "{csv}");
    for run in std::fs::read_dir(dir.join("runs/grid"))
        .unwrap()
        .map(|e| e.unwrap().path())
    {
        if run.join("status.json").exists() {
            let status: serde_json::Value =
                serde_json::from_slice(&std::fs::read(run.join("status.json")).unwrap()).unwrap();
            assert_eq!(status["attempts"], 1, "{}", run.display());
        }
    }
    let again = eegrun(&dir, Some(&conf), &["slurm", "grid.toml"]);
    assert!(
        text(&again).contains("all 4 runs are done; nothing to submit"),
        "{}",
        text(&again)
    );

    an_early_stopping_search_runs_unattended(&dir, &conf);
    seed_rounds_run_unattended(&dir, &conf);
}

/// 4 samples, rungs at epochs 1, 2 and 3 (η = 2): three arrays (4, 2 and 1 runs), each
/// followed by a job that decides and submits the next step.
const SEARCH: &str = r#"
name = "sh"
data = "synthetic:1:96"
[defaults]
epochs = 3
val_fraction = 0.25
[search]
samples = 4
seed = 1
lr = { log_uniform = [1e-4, 1e-1] }
[search.early_stopping]
kind = "successive_halving"
min_epochs = 1
reduction_factor = 2
"#;

fn an_early_stopping_search_runs_unattended(dir: &Path, conf: &Path) {
    std::fs::write(dir.join("sh.toml"), SEARCH).unwrap();
    let submit = eegrun(dir, Some(conf), &["slurm", "sh.toml", "--cpus-per-task", "1"]);
    assert!(submit.status.success(), "{}", text(&submit));
    assert!(text(&submit).contains("decides the next step"), "{}", text(&submit));
    let search = dir.join("runs/sh/search.json");
    let start = Instant::now();
    loop {
        let complete = std::fs::read(&search)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|v| v["complete"] == true);
        let queue = Command::new("squeue")
            .env("SLURM_CONF", conf)
            .args(["-h", "-o", "%j"])
            .output()
            .unwrap();
        if complete && !String::from_utf8_lossy(&queue.stdout).contains("eegrun-sh") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "search not complete after 600 s; queue: {}",
            text(&queue)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let steps: Vec<PathBuf> = std::fs::read_dir(dir.join("runs/sh/slurm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(steps.len(), 3, "one job folder per rung");
    // Every task trained its run: none found it outside the step (a run that another task
    // was training at that moment must not look like an earlier rung's unfinished run).
    for log in steps
        .iter()
        .flat_map(|s| std::fs::read_dir(s).unwrap().map(|e| e.unwrap().path()))
    {
        let name = log.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("task-") {
            let said = std::fs::read_to_string(&log).unwrap();
            assert!(
                said.contains("] done") || said.contains("] trained to epoch"),
                "{}: {said}",
                log.display()
            );
        }
    }
    // The same decisions and metrics as the search run here.
    let local = eegrun(dir, None, &["run", "sh.toml", "--runs-dir", "local"]);
    assert!(local.status.success(), "{}", text(&local));
    let read = |p: PathBuf| -> serde_json::Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    assert_eq!(
        read(search.clone())["decisions"],
        read(dir.join("local/sh/search.json"))["decisions"]
    );
    for run in std::fs::read_dir(dir.join("local/sh"))
        .unwrap()
        .map(|e| e.unwrap().path())
    {
        if run.join("metrics.csv").exists() {
            let on_slurm = dir.join("runs/sh").join(run.file_name().unwrap());
            let rows = |p: &Path| -> Vec<String> {
                std::fs::read_to_string(p.join("metrics.csv"))
                    .unwrap()
                    .lines()
                    .map(|l| l.split(',').take(7).collect::<Vec<_>>().join(","))
                    .collect()
            };
            assert_eq!(rows(&run), rows(&on_slurm), "{}", run.display());
        }
    }
    let done = eegrun(dir, Some(conf), &["slurm", "sh.toml"]);
    assert!(
        text(&done).contains("search complete") && text(&done).contains("nothing to submit"),
        "{}",
        text(&done)
    );
}

/// Two configurations, 2 seeds to start, 1 more per round where undecided, at most 3: one
/// array per round, each followed by a job that decides and submits the next round.
const ROUNDS: &str = r#"
name = "rounds"
data = "synthetic:1:64"
[defaults]
epochs = 2
[grid]
dropout = [0.0, 0.9]
[seeds]
until = "decided"
start = 2
step = 1
max = 3
"#;

fn seed_rounds_run_unattended(dir: &Path, conf: &Path) {
    std::fs::write(dir.join("rounds.toml"), ROUNDS).unwrap();
    let submit = eegrun(dir, Some(conf), &["slurm", "rounds.toml", "--cpus-per-task", "1"]);
    assert!(submit.status.success(), "{}", text(&submit));
    assert!(
        text(&submit).contains("round 1: 4 runs, 4 to train"),
        "{}",
        text(&submit)
    );
    let start = Instant::now();
    loop {
        let queue = Command::new("squeue")
            .env("SLURM_CONF", conf)
            .args(["-h", "-o", "%j"])
            .output()
            .unwrap();
        if !String::from_utf8_lossy(&queue.stdout).contains("eegrun-rounds") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "rounds not done after 600 s; queue: {}",
            text(&queue)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let arrays = std::fs::read_dir(dir.join("runs/rounds/slurm")).unwrap().count();
    // The same rounds, seeds and metrics as the study run here.
    let local = eegrun(dir, None, &["run", "rounds.toml", "--runs-dir", "local"]);
    assert!(local.status.success(), "{}", text(&local));
    let rounds_line = text(&local)
        .lines()
        .find(|l| l.contains(" rounds; seeds per configuration"))
        .expect("the rounds line")
        .to_string();
    let rounds: usize = rounds_line.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(arrays, rounds, "one array per round: {rounds_line}");
    assert!(rounds >= 2, "the test needs two chained rounds: {rounds_line}");
    let folders = |root: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.join(root).join("rounds"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("metrics.csv").exists())
            .map(|p| {
                let rows: Vec<String> = std::fs::read_to_string(p.join("metrics.csv"))
                    .unwrap()
                    .lines()
                    .map(|l| l.split(',').take(7).collect::<Vec<_>>().join(","))
                    .collect();
                format!("{} {}", p.file_name().unwrap().to_string_lossy(), rows.join(";"))
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(folders("runs"), folders("local"));
    let done = eegrun(dir, Some(conf), &["slurm", "rounds.toml"]);
    assert!(text(&done).contains("every round is trained"), "{}", text(&done));
}
