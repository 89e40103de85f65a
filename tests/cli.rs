//! The binary as a user runs it.

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
    let dir = std::env::temp_dir().join(format!("eegrun-cli-{}", std::process::id()));
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
    let _ = std::fs::remove_dir_all(dir);
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
