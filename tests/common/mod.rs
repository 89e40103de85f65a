//! Helpers shared by the integration tests (each test file uses some of them).
#![allow(dead_code)]

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh, empty folder `eegrun-NAME-PID` in the system's temporary folder. Dropped, it is
/// removed, unless the test is failing: then it is kept for a look, and its path printed.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("eegrun-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }
}

impl Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for a look", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The committed fixture run folders.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runs")
}

/// Compares with tests/golden/NAME (set EEGRUN_BLESS=1 to rewrite it, after checking by eye).
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("EEGRUN_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} missing", path.display()));
    assert_eq!(actual, expected, "{name} differs from the golden file");
}

/// The run folders of one experiment folder (those with a config.json), sorted; the
/// experiment's own files (study.json, search.json) are left out.
pub fn run_folders(experiment: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(experiment)
        .map(|r| {
            r.map(|e| e.unwrap().path())
                .filter(|p| p.join("config.json").exists())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Runs the eegrun binary in `dir` with `args`, and returns what it did.
pub fn eegrun(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run eegrun")
}

pub const SUBJECTS: [&str; 4] = ["S001", "S002", "S003", "S004"];
const SUBJECT_SHAPE: eegrun::data::Shape = eegrun::data::Shape {
    channels: 2,
    samples: 96,
    classes: 2,
};

/// A data folder of 4 subjects (2 channels × 96 samples, 2 classes): a pair (8 training and 4 test trials each, both classes) with their trials
/// CSVs; `drop_test` leaves a subject without test trials, `one_class` a subject whose
/// training trials are all class 1.
pub fn write_subject_data(dir: &Path, drop_test: Option<&str>, one_class: Option<&str>) {
    let mut train_rows = String::from("index,subject\n");
    let mut test_rows = String::from("index,subject\n");
    let (mut train_y, mut test_y) = (Vec::new(), Vec::new());
    for s in SUBJECTS {
        for i in 0..8 {
            train_rows.push_str(&format!("{},{s}\n", train_y.len()));
            train_y.push(if one_class == Some(s) { 0 } else { (i % 2) as u8 });
        }
        if drop_test != Some(s) {
            for i in 0..4 {
                test_rows.push_str(&format!("{},{s}\n", test_y.len()));
                test_y.push((i % 2) as u8);
            }
        }
    }
    let split = |y: Vec<u8>| eegrun::data::Split {
        x: (0..y.len() * SUBJECT_SHAPE.trial_len())
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect(),
        y,
        trial_len: SUBJECT_SHAPE.trial_len(),
    };
    eegrun::data::npz::write_split(&dir.join("train.npz"), &split(train_y), SUBJECT_SHAPE, None).unwrap();
    eegrun::data::npz::write_split(&dir.join("test.npz"), &split(test_y), SUBJECT_SHAPE, None).unwrap();
    std::fs::write(dir.join("trials_train.csv"), train_rows).unwrap();
    std::fs::write(dir.join("trials_test.csv"), test_rows).unwrap();
}

/// Compiles LaTeX `tables` in a minimal article (`graphicx` its one package) with pdflatex
/// in `dir`: it must compile, and no table may run past the text width. Skipped, saying
/// so, where pdflatex is missing, unless EEGRUN_REQUIRE_LATEX is set (CI), which fails.
pub fn assert_compiles_as_latex(dir: &Path, name: &str, tables: &str) {
    if Command::new("pdflatex").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("EEGRUN_REQUIRE_LATEX").is_none(),
            "EEGRUN_REQUIRE_LATEX is set but pdflatex is missing (apt-get install texlive-latex-base)"
        );
        eprintln!("SKIPPED compiling {name}.tex: pdflatex is not installed (apt-get install texlive-latex-base; .ci/run does)");
        return;
    }
    let document = format!(
        "\\documentclass{{article}}\n\\usepackage{{graphicx}}\n\\begin{{document}}\n{tables}\n\\end{{document}}\n"
    );
    std::fs::write(dir.join(format!("{name}.tex")), document).unwrap();
    let out = Command::new("pdflatex")
        .current_dir(dir)
        .args(["-interaction=nonstopmode", "-halt-on-error", &format!("{name}.tex")])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "pdflatex failed on {name}.tex:\n{log}");
    assert!(
        !log.contains("Overfull \\hbox"),
        "a table of {name}.tex is wider than the page:\n{log}"
    );
}
