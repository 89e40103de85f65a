//! The binary as a user runs it.

mod common;

use common::Scratch;

use eegrun::nn::Isa;
use std::process::Command;

fn eegrun(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .args(args)
        .output()
        .expect("run eegrun");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn models_prints_the_reports_parameter_counts() {
    let (code, out, _) = eegrun(&["models"]);
    assert_eq!(code, 0);
    assert!(out.contains("17874") && out.contains("150977"), "{out}");
    assert!(
        out.contains("[-1, 32, 1, 23]") && out.contains("[-1, 200, 1, 43]"),
        "{out}"
    );
}

#[test]
fn train_runs_and_writes_metrics() {
    let dir = Scratch::new("cli");
    let metrics = dir.join("metrics.json");
    let (code, out, err) = eegrun(&[
        "train",
        "--model",
        "eegnet",
        "--activation",
        "leaky_relu",
        "--epochs",
        "1",
        "--data",
        "synthetic:2",
        "--metrics",
        metrics.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("highest test accuracy"), "{out}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    assert_eq!(json["history"].as_array().unwrap().len(), 1);
    assert_eq!(json["config"]["activation"], "leaky_relu");
}

#[test]
fn bad_arguments_fail_with_one_clear_line() {
    for (args, message) in [
        (
            vec!["train", "--data", "/nonexistent/eeg"],
            "/nonexistent/eeg: data folder not found",
        ),
        (
            vec!["train", "--data", "synthetic", "--activation", "gelu"],
            "unknown activation 'gelu'",
        ),
        (
            vec!["train", "--data", "synthetic", "--model", "resnet"],
            "unknown model 'resnet'",
        ),
        (
            vec!["train", "--data", "synthetic", "--dropout", "1.5"],
            "dropout must be in [0, 1)",
        ),
        (
            vec!["train", "--data", "synthetic:x"],
            "expected 'auto', 'synthetic', 'synthetic:SEED'",
        ),
    ] {
        let (code, _, err) = eegrun(&args);
        assert_eq!(code, 1, "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

/// `eegrun train` for one epoch on `threads` threads, with `EEGRUN_KERNELS` set if given:
/// (exit code, stderr, the metrics' history without wall-clock fields).
fn train_one_epoch(kernels: Option<&str>, threads: usize, model: &str) -> (i32, String, Vec<serde_json::Value>) {
    let path = kernels.unwrap_or("chosen");
    let dir = Scratch::new(&format!("epoch-{path}-{threads}-{model}"));
    let metrics = dir.join("metrics.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_eegrun"));
    if let Some(kernels) = kernels {
        command.env("EEGRUN_KERNELS", kernels);
    }
    let out = command
        .args(["train", "--model", model, "--activation", "elu", "--epochs", "1"])
        .args(["--data", "synthetic:3", "--threads", &threads.to_string(), "--metrics"])
        .arg(&metrics)
        .output()
        .expect("run eegrun");
    let history = std::fs::read(&metrics).map_or_else(
        |_| Vec::new(),
        |bytes| {
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let mut history = json["history"].as_array().unwrap().clone();
            for epoch in &mut history {
                epoch.as_object_mut().unwrap().retain(|key, _| !key.contains("seconds"));
            }
            history
        },
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        history,
    )
}

/// Whether this CPU runs the kernels of `EEGRUN_KERNELS=path`.
fn cpu_runs(path: &str) -> bool {
    match path {
        "avx512" => Isa::Avx512.runs_here(),
        "avx2" => Isa::Avx2.runs_here(),
        _ => Isa::Baseline.runs_here(),
    }
}

/// A training epoch gives the same metrics on every kernel path the CPU runs; a path it
/// cannot run, or a value that is not a path, is refused in one line.
#[test]
fn every_kernel_path_trains_to_the_same_metrics() {
    for model in ["eegnet", "deepconvnet"] {
        let (code, err, reference) = train_one_epoch(Some("baseline"), 1, model);
        assert_eq!(code, 0, "{err}");
        assert_eq!(reference.len(), 1);
        for path in ["avx2", "avx512"] {
            let (code, err, history) = train_one_epoch(Some(path), 1, model);
            if cpu_runs(path) {
                assert_eq!(code, 0, "{path}: {err}");
                assert_eq!(history, reference, "{model} on {path}");
            } else {
                eprintln!("skipped the {path} path: this CPU cannot run it");
                assert_eq!(code, 1, "{path}: {err}");
                assert!(err.contains("this CPU has no"), "{err}");
                assert_eq!(err.trim().lines().count(), 1, "{err}");
            }
        }
    }
    let (code, err, _) = train_one_epoch(Some("avx1024"), 1, "eegnet");
    assert_eq!(code, 1);
    assert!(
        err.contains("EEGRUN_KERNELS=\"avx1024\": expected 'avx512', 'avx2' or 'baseline'"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// A training epoch gives the same metrics on 1, 2 and 3 threads: every parallel reduction
/// (convolutions, Winograd's blocks, BatchNorm's sums) adds in a fixed order.
#[test]
fn the_thread_count_does_not_change_the_metrics() {
    for model in ["eegnet", "deepconvnet"] {
        let (code, err, reference) = train_one_epoch(None, 1, model);
        assert_eq!(code, 0, "{err}");
        assert_eq!(reference.len(), 1);
        for threads in [2, 3] {
            let (code, err, history) = train_one_epoch(None, threads, model);
            assert_eq!(code, 0, "{err}");
            assert_eq!(history, reference, "{model} on {threads} threads");
        }
    }
}

/// `bench --rounds 3` against a stand-in reference whose epochs take 10, 20 and 30 s in
/// its first, second and third call: the reported PyTorch time is their median and the
/// ratio the median of the three rounds' ratios, each listed.
#[test]
fn bench_rounds_report_medians_of_paired_ratios() {
    let dir = Scratch::new("bench");
    let python = dir.join("python");
    // Called as `python -c CODE` (the import check) or `python SCRIPT ... --json PATH`.
    let script = r#"#!/bin/sh
[ "$1" = "-c" ] && exit 0
while [ "$#" -gt 1 ]; do [ "$1" = "--json" ] && out="$2"; shift; done
calls="$(dirname "$0")/calls"
echo x >> "$calls"
s=$(( $(wc -l < "$calls") * 10 ))
echo "{\"history\": [{\"epoch_s\": 99}, {\"epoch_s\": $s}]}" > "$out"
"#;
    std::fs::write(&python, script).unwrap();
    let mut permissions = std::fs::metadata(&python).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&python, permissions).unwrap();
    let reference = dir.join("torch_ref.py");
    std::fs::write(&reference, "").unwrap();
    let (code, out, err) = eegrun(&[
        "bench",
        "--epochs",
        "2",
        "--rounds",
        "3",
        "--models",
        "eegnet",
        "--threads",
        "1",
        "--python",
        python.to_str().unwrap(),
        "--torch-ref",
        reference.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let rounds: Vec<f64> = out
        .lines()
        .filter(|l| l.starts_with("round "))
        .map(|l| {
            l.split("eegrun ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(rounds.len(), 3, "{out}");
    let row: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("eegnet"))
        .expect("a result row")
        .split_whitespace()
        .collect();
    assert_eq!(row[3], "20.000", "{out}");
    let listed: Vec<f64> = row[5..].iter().map(|r| r.parse().unwrap()).collect();
    // Each round's ratio, from its printed (rounded) time: within half a unit of the last
    // printed digit plus the rounding of the printed times (1.850 may be 1.8504).
    let expected: Vec<f64> = rounds
        .iter()
        .zip([10.0, 20.0, 30.0])
        .map(|(ours, t)| ours / t)
        .collect();
    assert_eq!(listed.len(), expected.len(), "{out}");
    assert!(
        listed
            .iter()
            .zip(&expected)
            .all(|(shown, want)| (shown - want).abs() <= 0.0051),
        "{out}"
    );
    let mut sorted = listed.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(row[4], format!("{:.2}", sorted[1]), "{out}");
}

/// A reference whose --json output has too few epoch times, or is not JSON, is named in a
/// one-line error (it used to panic on an empty list).
#[test]
fn bench_names_a_reference_whose_output_it_cannot_use() {
    let dir = Scratch::new("bench-bad");
    let reference = dir.join("torch_ref.py");
    std::fs::write(&reference, "").unwrap();
    for (body, needle) in [
        ("{\"history\": []}", "0 epoch times"),
        ("{\"history\": [{\"epoch_s\": 3}]}", "1 epoch times"),
        ("{\"runs\": 1}", "no 'history' list"),
        ("not json", "not JSON"),
    ] {
        let python = dir.join("python");
        let script = format!(
            "#!/bin/sh\n[ \"$1\" = \"-c\" ] && exit 0\nwhile [ \"$#\" -gt 1 ]; do [ \"$1\" = \"--json\" ] && out=\"$2\"; shift; done\necho '{body}' > \"$out\"\n"
        );
        std::fs::write(&python, script).unwrap();
        let mut permissions = std::fs::metadata(&python).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&python, permissions).unwrap();
        let (code, out, err) = eegrun(&[
            "bench",
            "--epochs",
            "2",
            "--models",
            "eegnet",
            "--threads",
            "1",
            "--python",
            python.to_str().unwrap(),
            "--torch-ref",
            reference.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{body}: {out}{err}");
        assert!(!err.contains("panicked"), "{body}: {err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains("torch_ref.py") && last.contains(needle),
            "{body}: {err}"
        );
    }
}
