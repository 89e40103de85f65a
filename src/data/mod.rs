//! Data: the lab's npz files (or a train/test pair), and a synthetic source.

pub mod dataset;
pub mod npz;
pub mod subjects;
pub mod synthetic;

use anyhow::{bail, Result};
pub use dataset::{Dataset, Split, CHANNELS, CLASSES, SAMPLES};
use std::path::{Path, PathBuf};

/// The lab's four files: subject S4 and X11, train and test.
pub const LAB_TRAIN: [&str; 2] = ["S4b_train.npz", "X11b_train.npz"];
/// The lab's test files, in the order of [`LAB_TRAIN`].
pub const LAB_TEST: [&str; 2] = ["S4b_test.npz", "X11b_test.npz"];
/// The alternative pair layout.
pub const PAIR: [&str; 2] = ["train.npz", "test.npz"];

const EXPECTED: &str =
    "the lab's four files (S4b_train.npz, X11b_train.npz, S4b_test.npz, X11b_test.npz) or train.npz and test.npz";

/// Where trials come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// `dir` when it holds data files, else the synthetic source (seed 0).
    Auto(PathBuf),
    /// The built-in generator with its seed and trials per split.
    /// The built-in generator with its seed and trials per split.
    Synthetic {
        /// Seeds the generator.
        seed: u64,
        /// Trials per split.
        trials: usize,
    },
    /// A folder with the lab's four files or a train.npz/test.npz pair.
    Dir(PathBuf),
}

impl Source {
    /// `auto`, `synthetic[:SEED[:TRIALS]]` (TRIALS per split, default 1080, at most
    /// [`synthetic::MAX_TRIALS`]), or a folder. An existing path always means that folder.
    pub fn parse(text: &str) -> Result<Self> {
        if text == "auto" {
            return Ok(Self::Auto(PathBuf::from("data")));
        }
        let rest = match text.strip_prefix("synthetic") {
            Some(rest) if !Path::new(text).exists() => rest,
            _ => return Ok(Self::Dir(PathBuf::from(text))),
        };
        let numbers: Option<Vec<u64>> = match rest {
            "" => Some(Vec::new()),
            _ => rest
                .strip_prefix(':')
                .and_then(|r| r.split(':').map(|n| n.parse().ok()).collect()),
        };
        let max = synthetic::MAX_TRIALS;
        match numbers.as_deref() {
            Some([]) => Ok(Self::Synthetic { seed: 0, trials: synthetic::TRIALS }),
            Some([seed]) => Ok(Self::Synthetic { seed: *seed, trials: synthetic::TRIALS }),
            Some([seed, trials]) if (2..=max as u64).contains(trials) => Ok(Self::Synthetic { seed: *seed, trials: *trials as usize }),
            Some([_, trials]) => bail!("data source '{text}': TRIALS must be between 2 and {max} per split, got {trials}"),
            _ => bail!("data source '{text}': expected 'auto', 'synthetic', 'synthetic:SEED', 'synthetic:SEED:TRIALS' (TRIALS ≥ 2) or a folder"),
        }
    }

    /// Loads the data.
    pub fn load(&self) -> Result<Dataset> {
        match self {
            Self::Synthetic { seed, trials } => Ok(synthetic::generate(*seed, *trials)),
            Self::Dir(dir) => load_dir(dir),
            Self::Auto(dir) => {
                let has_data = LAB_TRAIN
                    .iter()
                    .chain(&LAB_TEST)
                    .chain(&PAIR)
                    .any(|f| dir.join(f).exists());
                if has_data {
                    load_dir(dir)
                } else {
                    eprintln!(
                        "note: no data files in {}/ — using the built-in synthetic data",
                        dir.display()
                    );
                    Ok(synthetic::generate(0, synthetic::TRIALS))
                }
            }
        }
    }
}

/// Loads the lab's four files, or else a train.npz/test.npz pair, from `dir`.
pub fn load_dir(dir: &Path) -> Result<Dataset> {
    if !dir.is_dir() {
        bail!(
            "{}: data folder not found (expected a folder with {EXPECTED})",
            dir.display()
        );
    }
    let present = |names: &[&str]| names.iter().filter(|n| dir.join(n).is_file()).count();
    let lab: Vec<&str> = LAB_TRAIN.iter().chain(&LAB_TEST).copied().collect();
    let (train_files, test_files): (Vec<&str>, Vec<&str>) = if present(&lab) == lab.len() {
        (LAB_TRAIN.to_vec(), LAB_TEST.to_vec())
    } else if present(&PAIR) == PAIR.len() {
        (vec![PAIR[0]], vec![PAIR[1]])
    } else if present(&lab) > 0 {
        let missing: Vec<&str> = lab.iter().filter(|n| !dir.join(n).is_file()).copied().collect();
        bail!("{}: incomplete lab data: missing {}", dir.display(), missing.join(", "));
    } else {
        bail!("{}: no data files: expected {EXPECTED}", dir.display());
    };
    let train = load_split(dir, &train_files)?;
    let test = load_split(dir, &test_files)?;
    let test_subjects = match test_files[..] {
        [single] if single == PAIR[1] => subjects::read(dir, test.len())?,
        _ => None,
    };
    let mut data = Dataset::new(
        format!(
            "{} ({})",
            dir.display(),
            train_files
                .iter()
                .chain(&test_files)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        train,
        test,
    );
    data.test_subjects = test_subjects;
    Ok(data)
}

/// The largest signal magnitude read: its square summed over a batch of trials stays finite
/// in f32 (EEG in µV is below 1e4).
const MAX_MAGNITUDE: f64 = 1e15;

/// Reads and concatenates files of one split: `signal` (N, 750, 2) → (N, 2, 750),
/// `label` 1/2 → 0/1, NaN → the nanmean of the whole split (as the lab's loader does).
fn load_split(dir: &Path, files: &[&str]) -> Result<Split> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for name in files {
        let path = dir.join(name);
        let arrays = npz::read_arrays(&path, &["signal", "label"])?;
        let (signal, label) = (&arrays[0], &arrays[1]);
        if signal.shape.len() != 3 || signal.shape[1] != SAMPLES || signal.shape[2] != CHANNELS {
            bail!(
                "{}: signal has shape {:?}, expected (N, {SAMPLES}, {CHANNELS})",
                path.display(),
                signal.shape
            );
        }
        let n = signal.shape[0];
        let label_n = label.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if label_n != Some(n) || label.shape.len() > 2 {
            bail!(
                "{}: label has shape {:?}, expected ({n},) to match signal's {n} trials",
                path.display(),
                label.shape
            );
        }
        for (i, &l) in label.data.iter().enumerate() {
            if l != 1.0 && l != 2.0 {
                bail!("{}: label[{i}] is {l}, expected 1 (left) or 2 (right)", path.display());
            }
            y.push((l - 1.0) as u8);
        }
        if let Some(i) = signal.data.iter().position(|v| v.abs() > MAX_MAGNITUDE) {
            let (trial, t, c) = (i / (SAMPLES * CHANNELS), i / CHANNELS % SAMPLES, i % CHANNELS);
            bail!(
                "{}: signal[{trial}, {t}, {c}] is {:?}; eegrun reads values up to ±{MAX_MAGNITUDE:e} (beyond that the first layer's batch statistics overflow 32-bit floats; only NaN is filled in)",
                path.display(),
                signal.data[i]
            );
        }
        for trial in signal.data.chunks_exact(SAMPLES * CHANNELS) {
            for c in 0..CHANNELS {
                x.extend((0..SAMPLES).map(|t| trial[t * CHANNELS + c] as f32));
            }
        }
    }
    let (finite, sum) = x
        .iter()
        .filter(|v| !v.is_nan())
        .fold((0usize, 0.0f64), |(count, sum), &v| (count + 1, sum + v as f64));
    if finite < x.len() {
        if finite == 0 {
            bail!("{}: every sample of {} is NaN", dir.display(), files.join(", "));
        }
        let mean = (sum / finite as f64) as f32;
        x.iter_mut().filter(|v| v.is_nan()).for_each(|v| *v = mean);
    }
    debug_assert!(y.iter().all(|&l| (l as usize) < CLASSES));
    Ok(Split { x: x.into(), y })
}
