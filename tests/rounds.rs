//! Studies that add seeds in rounds until decided (`[seeds] until = "decided"`): the same
//! rounds and metrics with one or two jobs and after kill -9 at random moments, and the
//! settings refused before anything trains.

mod common;

use common::{eegrun, Scratch};

use std::path::Path;
use std::process::{Command, Output};

const STUDY: &str = r#"name = "r"
data = "synthetic:1:60"
[defaults]
epochs = 4
batch_size = 20
lr = 0.01
[grid]
model = ["eegnet"]
dropout = [0.0, 0.9]
[seeds]
until = "decided"
start = 2
step = 1
max = 4
"#;

fn workspace(name: &str, body: &str) -> Scratch {
    let dir = Scratch::new(&format!("rounds-{name}"));
    std::fs::write(dir.join("r.toml"), body).unwrap();
    dir
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Each run folder's name and its metrics without the timing columns, and predictions.
fn results(dir: &Path) -> Vec<(String, String, String)> {
    common::run_folders(&dir.join("runs/r"))
        .iter()
        .map(|run| {
            let metrics: Vec<String> = std::fs::read_to_string(run.join("metrics.csv"))
                .unwrap()
                .lines()
                .map(|l| l.split(',').take(7).collect::<Vec<_>>().join(","))
                .collect();
            (
                run.file_name().unwrap().to_string_lossy().into_owned(),
                metrics.join("\n"),
                std::fs::read_to_string(run.join("predictions.csv")).unwrap(),
            )
        })
        .collect()
}

/// The line that sums the rounds up.
fn rounds_line(out: &Output) -> String {
    text(out)
        .lines()
        .find(|l| l.contains(" rounds; seeds per configuration"))
        .unwrap_or_else(|| panic!("no rounds line:\n{}", text(out)))
        .to_string()
}

#[test]
fn rounds_are_the_same_with_one_or_two_jobs_and_after_kills() {
    let one = workspace("one", STUDY);
    let first = eegrun(&one, &["r.toml", "--jobs", "1", "--threads", "1"]);
    assert!(first.status.success(), "{}", text(&first));
    let want = results(&one);
    assert!(want.len() >= 4, "{} runs", want.len());

    let two = workspace("two", STUDY);
    let second = eegrun(&two, &["r.toml", "--jobs", "2", "--threads", "1"]);
    assert!(second.status.success(), "{}", text(&second));
    assert_eq!(results(&two), want, "--jobs 2 trained other rounds or other numbers");
    assert_eq!(rounds_line(&second), rounds_line(&first));

    let killed = workspace("killed", STUDY);
    for epochs_seen in [5, 13, 27] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eegrun"))
            .current_dir(&killed)
            .args(["r.toml", "--jobs", "2", "--threads", "1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        loop {
            let recorded: usize = common::run_folders(&killed.join("runs/r"))
                .iter()
                .filter_map(|r| std::fs::read_to_string(r.join("metrics.csv")).ok())
                .map(|m| m.lines().count().saturating_sub(1))
                .sum();
            if recorded >= epochs_seen || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(started.elapsed().as_secs() < 120, "no progress");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
    }
    let last = eegrun(&killed, &["r.toml", "--jobs", "2", "--threads", "1"]);
    assert!(last.status.success(), "{}", text(&last));
    assert_eq!(results(&killed), want, "resumed rounds differ from uninterrupted ones");
    assert_eq!(rounds_line(&last), rounds_line(&first));

    // The dry run retraces the finished rounds and has nothing left to train.
    let listing = text(&eegrun(&one, &["r.toml", "--dry-run"]));
    assert!(listing.contains("every round is trained"), "{listing}");
    // The study's declaration holds the per-look level.
    let study: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("runs/r/study.json")).unwrap()).unwrap();
    let declared = &study["declarations"][0];
    assert!(
        (declared["alpha"].as_f64().unwrap() - 0.05 / 3.0).abs() < 1e-12,
        "{study}"
    );

    // The page tells the rounds as `run` did: a row per look, the runs saved.
    let page = eegrun(&one, &["report", "runs", "-o", "report.html"]);
    assert!(page.status.success(), "{}", text(&page));
    let html = std::fs::read_to_string(one.join("report.html")).unwrap();
    let section = html
        .split("<h2 id=\"rounds-r-eegnet\">Seed rounds: r-eegnet</h2>")
        .nth(1)
        .expect("a rounds section")
        .split("<h2")
        .next()
        .unwrap();
    let line = rounds_line(&first);
    let rounds: usize = line.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(
        section.matches("<tr><td>").count(),
        rounds,
        "a row per look: {line}\n{section}"
    );
    let saved = line.rsplit('(').next().unwrap().trim_end_matches(" saved)");
    assert!(
        section.contains(&format!(
            ": {} saved.",
            if saved == "1" {
                "1 run".to_string()
            } else {
                format!("{saved} runs")
            }
        )),
        "{line}\n{section}"
    );
    assert!(
        section.contains("α = 0.0167 (0.05 over the 3 possible looks"),
        "{section}"
    );
}

#[test]
fn bad_round_settings_are_refused_before_anything_trains() {
    let cases = [
        ("max = 4", "max = 1", "seeds.max: expected a whole number from 2"),
        (
            "start = 2\nstep = 1\nmax = 4",
            "start = 4\nstep = 1\nmax = 3",
            "seeds.max = 3: below seeds.start = 4",
        ),
        ("step = 1", "step = 0", "seeds.step: expected a whole number from 1"),
        (
            "until = \"decided\"",
            "until = \"forever\"",
            "seeds.until: the one stopping rule is \"decided\"",
        ),
        (
            "dropout = [0.0, 0.9]",
            "dropout = [0.5]",
            "needs at least two configurations of one model",
        ),
        ("[seeds]", "seed = [0, 1]\n[seeds]", "[seeds] chooses the seeds itself"),
    ];
    for (i, (from, to, expect)) in cases.iter().enumerate() {
        let body = STUDY.replace(from, to);
        let dir = workspace(&format!("bad{i}"), &body);
        let out = eegrun(&dir, &["r.toml"]);
        let message = text(&out);
        assert!(!out.status.success(), "{to}: accepted");
        assert!(message.contains(expect), "{to}: {message}");
        assert_eq!(message.trim().lines().count(), 1, "{to}: {message}");
        assert!(!dir.join("runs").exists(), "{to}: something was written");
    }
}
