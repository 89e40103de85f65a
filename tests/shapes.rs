//! Data of any shape and the models' architecture fields: shapes read from the files and
//! checked, labels 1..K, the synthetic source at other shapes, architecture fields scoped by
//! model in grids and `--set`, ids unchanged at the lab's values, and each kind of bad input
//! refused before training with one line naming the value and its limit.

mod common;

use common::{eegrun, Scratch};
use eegrun::config::{RunFields, RunSpec};
use eegrun::data::{load_dir, npz, synthetic, Shape, Source, Split};
use eegrun::experiment::Experiment;
use std::path::Path;

/// A train/test pair of `shape` with these labels (0-based in memory, so 1..K on disk
/// unless `shift` moves them).
fn write_pair(dir: &Path, shape: Shape, train: &[u8], test: &[u8]) {
    let split = |labels: &[u8]| Split {
        x: (0..labels.len() * shape.trial_len()).map(|i| (i % 97) as f32).collect(),
        y: labels.to_vec(),
        trial_len: shape.trial_len(),
    };
    npz::write_split(&dir.join("train.npz"), &split(train), shape, None).unwrap();
    npz::write_split(&dir.join("test.npz"), &split(test), shape, None).unwrap();
}

fn shape(channels: usize, samples: usize, classes: usize) -> Shape {
    Shape {
        channels,
        samples,
        classes,
    }
}

fn error_of(dir: &Path) -> String {
    format!("{:#}", load_dir(dir).expect_err("loading should fail"))
}

#[test]
fn a_pair_of_another_shape_carries_its_shape_and_fingerprints_it() {
    let dir = Scratch::new("shape-pair");
    write_pair(&dir, shape(5, 64, 3), &[0, 1, 2, 1], &[2, 0]);
    let data = load_dir(&dir).unwrap();
    assert_eq!(data.shape, shape(5, 64, 3));
    assert_eq!(data.train.y, vec![0, 1, 2, 1]);
    assert_eq!(data.train.trial(1).len(), 5 * 64);
    // Written (N, T, C) from memory's (N, C, T) and read back: the same layout again.
    let first = data.train.trial(0);
    assert_eq!(&first[..3], &[0.0, 1.0, 2.0]);
    assert_eq!(data.train.trial(1)[0], (5 * 64 % 97) as f32);
    // The same values at the lab's shape would hash differently: the shape is in it.
    let lab = synthetic::generate(0, 8, Shape::LAB);
    let other = synthetic::generate(0, 8, shape(2, 750, 3));
    assert_ne!(lab.fingerprint, other.fingerprint);
}

#[test]
fn the_lab_shape_keeps_its_synthetic_fingerprint() {
    // Recorded before shapes could vary (runs/ and the baselines name it).
    let data = Source::parse("synthetic:1:40").unwrap().load().unwrap();
    assert_eq!(data.shape, Shape::LAB);
    assert_eq!(data.description, "synthetic (seed 1, 40 trials)");
    let same = Source::parse("synthetic:1:40:2x750x2").unwrap().load().unwrap();
    assert_eq!(data.fingerprint, same.fingerprint);
}

#[test]
fn bad_labels_and_shapes_are_refused_naming_what_was_found() {
    let dir = Scratch::new("shape-bad");
    let s = shape(3, 40, 3);
    // Labels 0..K-1 on disk: write_split adds 1, so write "-1" by hand as label 0 → a 0.
    write_pair(&dir, s, &[0, 1, 1], &[0]);
    npz::write_split(
        &dir.join("train.npz"),
        &Split {
            x: vec![0.0; 3 * 120].into(),
            y: vec![0, 2, 2],
            trial_len: 120,
        },
        s,
        None,
    )
    .unwrap();
    let e = error_of(&dir);
    assert!(e.contains("label 2 has no training trials"), "{e}");

    write_pair(&dir, s, &[0, 0, 0], &[0]);
    let e = error_of(&dir);
    assert!(e.contains("at least 2 classes"), "{e}");

    write_pair(&dir, s, &[0, 1], &[2]);
    let e = error_of(&dir);
    assert!(
        e.contains("label 3 appears in the test split, but the training labels are 1..2"),
        "{e}"
    );

    write_pair(&dir, s, &[0, 1], &[1]);
    npz::write_split(
        &dir.join("test.npz"),
        &Split {
            x: vec![0.0; 4 * 40].into(),
            y: vec![0],
            trial_len: 160,
        },
        shape(4, 40, 2),
        None,
    )
    .unwrap();
    let e = error_of(&dir);
    assert!(e.contains("40 samples × 3 channels") && e.contains("40 × 4"), "{e}");

    // A 0 label: the hint says to add one.
    let zero = Split {
        x: vec![0.0; 120].into(),
        y: vec![255],
        trial_len: 120,
    };
    npz::write_split(&dir.join("train.npz"), &zero, s, None).unwrap(); // 255 + 1 = 256 > 64 classes
    let e = error_of(&dir);
    assert!(
        e.contains("label[0] is 256, expected a whole number from 1 to K (at most 64)"),
        "{e}"
    );
}

#[test]
fn a_stated_sampling_rate_is_read_checked_and_shows_kernels_in_seconds() {
    let dir = Scratch::new("shape-sfreq");
    let s = shape(3, 120, 2);
    let split = |n: usize| Split {
        x: (0..n * s.trial_len()).map(|i| (i % 89) as f32).collect(),
        y: (0..n).map(|i| (i % 2) as u8).collect(),
        trial_len: s.trial_len(),
    };
    let write = |train: Option<f64>, test: Option<f64>| {
        npz::write_split(&dir.join("train.npz"), &split(8), s, train).unwrap();
        npz::write_split(&dir.join("test.npz"), &split(4), s, test).unwrap();
    };
    write(None, None);
    let without = load_dir(&dir).unwrap();
    assert_eq!(without.sfreq, None);
    write(Some(160.0), Some(160.0));
    let with = load_dir(&dir).unwrap();
    assert_eq!(with.sfreq, Some(160.0));
    assert_eq!(
        with.fingerprint, without.fingerprint,
        "the rate is not part of the data's identity"
    );

    write(Some(160.0), None);
    let e = error_of(&dir);
    assert!(
        e.contains("test.npz: no sfreq but") && e.contains("train.npz has sfreq 160"),
        "{e}"
    );
    write(Some(160.0), Some(128.0));
    let e = error_of(&dir);
    assert!(e.contains("test.npz: sfreq 128 but"), "{e}");
    for bad in [0.0, -250.0, f64::NAN, 1e9] {
        write(Some(bad), Some(bad));
        let e = error_of(&dir);
        assert!(
            e.contains("train.npz: sfreq is")
                && e.contains("expected the sampling rate in Hz, above 0 and at most 100000"),
            "{e}"
        );
    }

    // Tables show the temporal kernel in seconds; the run's id does not move.
    write(Some(160.0), Some(160.0));
    let runs = Scratch::new("shape-sfreq-runs");
    let file = runs.join("k.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"k\"\ndata = {:?}\n[defaults]\nmodel = \"eegnet\"\nepochs = 1\nseed = 0\n[grid.eegnet]\nkernel = [33, 51]\n",
            dir.display().to_string()
        ),
    )
    .unwrap();
    let out = eegrun(&runs, &["run", "k.toml", "--runs-dir", "runs"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = eegrun(&runs, &["summarize", "runs"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("eegnet.kernel=33 (kernel 33 = 0.206 s at 160 Hz)")
            && text.contains("kernel 51 = 0.319 s at 160 Hz"),
        "{text}"
    );
    let record = std::fs::read_dir(runs.join("runs/k"))
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("config.json")).ok())
        .next()
        .unwrap();
    assert!(record.contains("\"data_sfreq\": 160.0"), "{record}");
}

#[test]
fn synthetic_shapes_parse_and_their_bounds_are_checked_first() {
    let data = Source::parse("synthetic:2:30:22x480x3").unwrap().load().unwrap();
    assert_eq!(data.shape, shape(22, 480, 3));
    assert_eq!(data.train.len(), 30);
    assert!(data.train.y.iter().all(|&y| y < 3));
    for (text, message) in [
        ("synthetic:0:10:22x480", "expected CxTxK"),
        ("synthetic:0:10:0x480x3", "0 channels: eegrun takes 1 to 512"),
        ("synthetic:0:10:22x480x1", "1 classes: eegrun takes 2 to 64"),
        ("synthetic:0:10:600x480x2", "600 channels"),
        (
            "synthetic:0:10:256x4096x2",
            "1048576 values per trial: eegrun takes at most 262144",
        ),
        ("synthetic:0:100000:64x4000x2", "the synthetic source makes at most"),
    ] {
        let e = format!("{:#}", Source::parse(text).unwrap_err());
        assert!(e.contains(message), "{text}: {e}");
    }
}

#[test]
fn architecture_fields_are_scoped_by_model_and_defaults_keep_the_ids() {
    // At the lab's values a field is left out of config.json and so of the id.
    let written = RunFields {
        eegnet: Some(eegrun::config::EegNetFields {
            f1: Some(16),
            ..Default::default()
        }),
        ..RunFields::default()
    };
    let lab = written.resolve().unwrap();
    assert_eq!(lab, RunSpec::default());
    assert_eq!(
        serde_json::to_string(&lab).unwrap(),
        serde_json::to_string(&RunSpec::default()).unwrap()
    );
    let text = r#"
name = "arch"
data = "synthetic:0:20:3x200x2"
[defaults]
epochs = 1
[grid]
model = ["eegnet", "deepconvnet"]
seed = [0, 1]
[grid.eegnet]
f1 = [8, 16]
"#;
    let e = Experiment::parse(Path::new("x.toml"), text).unwrap();
    let runs = e.runs().unwrap();
    assert_eq!(runs.len(), 6, "2 EEGNet × 2 seeds + DeepConvNet × 2 seeds");
    let json = serde_json::to_string(&runs.iter().find(|r| r.eegnet.f1 == 8).unwrap()).unwrap();
    assert!(json.contains(r#""eegnet":{"f1":8}"#), "{json}");
    assert!(runs
        .iter()
        .filter(|r| r.model.name() == "deepconvnet")
        .all(|r| r.eegnet.f1 == 16));

    // Quoted keys and --set say the same.
    let quoted = text.replace("[grid.eegnet]\nf1 = [8, 16]", "\"eegnet.f1\" = [8, 16]");
    let q = Experiment::parse(Path::new("x.toml"), &quoted).unwrap().runs().unwrap();
    assert_eq!(q, runs);
    let mut set = Experiment::parse(Path::new("x.toml"), &text.replace("[grid.eegnet]\nf1 = [8, 16]", "")).unwrap();
    set.apply_overrides(&["eegnet.f1=[8,16]".into()]).unwrap();
    assert_eq!(set.runs().unwrap().len(), 6);
}

#[test]
fn bad_architecture_values_are_refused_with_their_place_and_limit() {
    let base = "name = \"arch\"\ndata = \"synthetic\"\n[grid]\nmodel = [\"eegnet\"]\n";
    for (extra, message) in [
        (
            "[grid.eegnet]\nf1 = [0]\n",
            "x.toml:6:7: grid.eegnet.f1: eegnet.f1 must be from 1 to 256, got 0",
        ),
        ("[grid.eegnet]\nd = [0]\n", "eegnet.d must be from 1 to 16, got 0"),
        ("[grid.eegnet]\nkernel = [32]\n", "eegnet.kernel must be odd"),
        (
            "[defaults.deepconvnet]\nfilters = [25, 25, 50, 100]\n",
            "deepconvnet.filters takes five filter counts",
        ),
        ("[grid.eegnet]\nwidth = [3]\n", "unknown key"),
        ("[grid.resnet]\nf1 = [3]\n", "a table here names a model's architecture"),
    ] {
        let e = format!(
            "{:#}",
            Experiment::parse(Path::new("x.toml"), &format!("{base}{extra}")).unwrap_err()
        );
        assert!(e.contains(message), "{extra}: {e}");
    }
    let untrained = format!("{base}[grid.deepconvnet]\nkernel = [3, 7]\n");
    let e = format!(
        "{:#}",
        Experiment::parse(Path::new("x.toml"), &untrained)
            .unwrap()
            .runs()
            .unwrap_err()
    );
    assert!(e.contains("grid.deepconvnet.kernel sets deepconvnet's architecture, but the study trains no deepconvnet runs (model = eegnet)"), "{e}");
}

#[test]
fn a_window_too_short_is_refused_before_anything_is_written() {
    let dir = Scratch::new("shape-short");
    std::fs::write(
        dir.join("x.toml"),
        "name = \"short\"\ndata = \"synthetic:0:20:2x60x2\"\n[defaults]\nepochs = 1\n[grid]\nmodel = [\"eegnet\", \"deepconvnet\"]\n",
    )
    .unwrap();
    let out = eegrun(&dir, &["x.toml"]);
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(
        text.contains("deepconvnet needs windows of at least 76 samples"),
        "{text}"
    );
    assert!(!dir.join("runs").exists(), "nothing may be written");
    let out = eegrun(
        &dir,
        &["models", "--data", "synthetic:0:4:2x60x2", "--set", "eegnet.kernel=71"],
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        text.contains("eegnet.kernel = 71 is longer than the 60-sample window"),
        "{text}"
    );
}

#[test]
fn a_grid_over_the_architecture_trains_at_another_shape() {
    let dir = Scratch::new("shape-train");
    std::fs::write(
        dir.join("x.toml"),
        "name = \"arch\"\ndata = \"synthetic:0:24:4x128x3\"\n[defaults]\nepochs = 1\nbatch_size = 8\n[grid]\nmodel = [\"eegnet\"]\n[grid.eegnet]\nf1 = [4, 8]\nkernel = [15]\n",
    )
    .unwrap();
    let out = eegrun(&dir, &["x.toml", "--jobs", "1", "--threads", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let runs = common::run_folders(&dir.join("runs/arch"));
    assert_eq!(runs.len(), 2);
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(runs[0].join("config.json")).unwrap()).unwrap();
    assert_eq!(config["config"]["eegnet"]["kernel"], 15);
    let out = eegrun(&dir, &["summarize", "runs"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("eegnet.f1=4"), "{text}");
    assert!(
        text.contains("chance level on synthetic (seed 0, 24 trials, 4x128x3) (3 classes, 24 test trials)"),
        "{text}"
    );
    let out = eegrun(&dir, &["report", "runs", "-o", "report.html"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        page.contains("<p class=\"chance\">chance level on synthetic"),
        "the report states the chance level"
    );
    assert!(page.contains("eegnet.f1=4"), "the report names the architecture");
}

#[test]
fn findings_can_compare_balanced_accuracy() {
    let dir = Scratch::new("shape-balanced");
    std::fs::write(
        dir.join("x.toml"),
        "name = \"b\"\ndata = \"synthetic:0:48:4x128x3\"\n[defaults]\nepochs = 1\nbatch_size = 8\n[grid]\nactivation = [\"relu\", \"elu\"]\nseed = [0, 1, 2]\n[grid.eegnet]\nkernel = [15]\n[findings]\nmetric = \"balanced_accuracy\"\n",
    )
    .unwrap();
    let out = eegrun(&dir, &["x.toml", "--jobs", "1", "--threads", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let study: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("runs/b/study.json")).unwrap()).unwrap();
    assert_eq!(study["declarations"][0]["metric"], "balanced_accuracy");
    let out = eegrun(&dir, &["summarize", "runs"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("final-epoch balanced test accuracy"), "{text}");
    let bad = "name = \"b\"\n[findings]\nmetric = \"f1\"\n";
    let e = format!("{:#}", Experiment::parse(Path::new("x.toml"), bad).unwrap_err());
    assert!(
        e.contains(
            "x.toml:3:10: findings.metric: unknown findings metric 'f1': expected accuracy or balanced_accuracy"
        ),
        "{e}"
    );
}
