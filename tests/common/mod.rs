//! Helpers shared by the integration tests (each test file uses some of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

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
