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
