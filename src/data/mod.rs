//! Data: the lab's npz files (or a train/test pair), and a synthetic source.

pub mod dataset;
pub mod npz;
pub mod subjects;
pub mod synthetic;
pub mod units;

use anyhow::{bail, Result};
pub use dataset::{Dataset, Shape, Split};
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
    /// The built-in generator with its seed, trials per split and shape.
    Synthetic {
        /// Seeds the generator.
        seed: u64,
        /// Trials per split.
        trials: usize,
        /// Channels, samples and classes (the lab's by default).
        shape: Shape,
    },
    /// A folder with the lab's four files or a train.npz/test.npz pair.
    Dir(PathBuf),
}

impl Source {
    /// `auto`, `synthetic[:SEED[:TRIALS[:CxTxK]]]` (TRIALS per split, default 1080, at most
    /// [`synthetic::MAX_TRIALS`]; C channels × T samples, K classes, default the lab's
    /// 2x750x2), or a folder. An existing path always means that folder.
    pub fn parse(text: &str) -> Result<Self> {
        if text == "auto" {
            return Ok(Self::Auto(PathBuf::from("data")));
        }
        let rest = match text.strip_prefix("synthetic") {
            Some(rest) if !Path::new(text).exists() => rest,
            _ => return Ok(Self::Dir(PathBuf::from(text))),
        };
        let expected = "expected 'auto', 'synthetic', 'synthetic:SEED', 'synthetic:SEED:TRIALS' (TRIALS ≥ 2), 'synthetic:SEED:TRIALS:CxTxK' (e.g. synthetic:0:200:22x480x3) or a folder";
        let parts: Vec<&str> = match rest {
            "" => Vec::new(),
            _ => match rest.strip_prefix(':') {
                Some(r) => r.split(':').collect(),
                None => bail!("data source '{text}': {expected}"),
            },
        };
        if parts.len() > 3 {
            bail!("data source '{text}': {expected}");
        }
        let number = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| anyhow::anyhow!("data source '{text}': {expected}"))
        };
        let seed = parts.first().map(|s| number(s)).transpose()?.unwrap_or(0);
        let trials = parts
            .get(1)
            .map(|s| number(s))
            .transpose()?
            .unwrap_or(synthetic::TRIALS as u64);
        let max = synthetic::MAX_TRIALS;
        if !(2..=max as u64).contains(&trials) {
            bail!("data source '{text}': TRIALS must be between 2 and {max} per split, got {trials}");
        }
        let shape = match parts.get(2) {
            None => Shape::LAB,
            Some(shape) => {
                let dims: Vec<usize> = shape
                    .split(['x', 'X', '×'])
                    .map(|d| {
                        d.trim().parse().map_err(|_| {
                            anyhow::anyhow!("data source '{text}': shape '{shape}': expected CxTxK, e.g. 22x480x3")
                        })
                    })
                    .collect::<Result<_>>()?;
                let [channels, samples, classes] = dims[..] else {
                    bail!("data source '{text}': shape '{shape}': expected CxTxK (channels x samples x classes), e.g. 22x480x3");
                };
                let shape = Shape {
                    channels,
                    samples,
                    classes,
                };
                shape
                    .check()
                    .map_err(|e| anyhow::anyhow!("data source '{text}': {e}"))?;
                let values = (trials as usize).saturating_mul(shape.trial_len());
                if values > synthetic::MAX_VALUES {
                    bail!(
                        "data source '{text}': {trials} trials of {} values is {values} per split; the synthetic source makes at most {} (about 1.2 GB)",
                        shape.trial_len(),
                        synthetic::MAX_VALUES
                    );
                }
                shape
            }
        };
        Ok(Self::Synthetic {
            seed,
            trials: trials as usize,
            shape,
        })
    }

    /// Loads the data.
    pub fn load(&self) -> Result<Dataset> {
        match self {
            Self::Synthetic { seed, trials, shape } => Ok(synthetic::generate(*seed, *trials, *shape)),
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
                    Ok(synthetic::generate(0, synthetic::TRIALS, Shape::LAB))
                }
            }
        }
    }
}

/// A data source's short name, for folders and tables: a folder's last part
/// (`eegmmidb-lr-imagery`), or the source with `:` as `-` (`synthetic-0-200`).
pub fn data_name(source: &str) -> String {
    let trimmed = source.trim_end_matches(['/', '\\']);
    let last = std::path::Path::new(trimmed)
        .file_name()
        .map_or_else(|| trimmed.to_string(), |n| n.to_string_lossy().into_owned());
    let name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    match name.trim_start_matches('.') {
        "" => "data".into(),
        n => n.to_string(),
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
    let shape = shape_of(dir, &train, &test)?;
    let sfreq = sampling_rate(&train, &test)?;
    let subjects = match test_files[..] {
        [single] if single == PAIR[1] => subjects::read_both(dir, train.split.len(), test.split.len())?,
        _ => subjects::BothSplits::default(),
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
        shape,
        train.split,
        test.split,
    );
    data.test_subjects = subjects.test;
    data.train_subjects = subjects.train;
    data.subject_names = subjects.names;
    data.sfreq = sfreq;
    Ok(data)
}

/// The highest sampling rate eegrun accepts, in Hz.
pub const MAX_SFREQ: f64 = 100_000.0;

/// A file's optional `sfreq`: one positive, finite number of samples per second.
fn read_sfreq(path: &Path) -> Result<Option<f64>> {
    let Some(array) = npz::read_optional(path, "sfreq")? else {
        return Ok(None);
    };
    match array.data[..] {
        [hz] if hz > 0.0 && hz <= MAX_SFREQ => Ok(Some(hz)),
        [hz] => bail!(
            "{}: sfreq is {hz:?}, expected the sampling rate in Hz, above 0 and at most {MAX_SFREQ}",
            path.display()
        ),
        _ => bail!(
            "{}: sfreq has shape {:?}, expected one number (the sampling rate in Hz)",
            path.display(),
            array.shape
        ),
    }
}

/// The data set's sampling rate: stated by every file with one value, or by none.
fn sampling_rate(train: &Loaded, test: &Loaded) -> Result<Option<f64>> {
    let stated: Vec<&(String, Option<f64>)> = train.sfreq.iter().chain(&test.sfreq).collect();
    let first = stated[0];
    match stated.iter().find(|(_, hz)| *hz != first.1) {
        None => Ok(first.1),
        Some((file, hz)) => {
            let said = |hz: &Option<f64>| hz.map_or("no sfreq".to_string(), |hz| format!("sfreq {hz}"));
            bail!(
                "{file}: {} but {} has {}; every file of a data set states the same sampling rate, or none does",
                said(hz),
                first.0,
                said(&first.1)
            )
        }
    }
}

/// The largest signal magnitude read: its square summed over a batch of trials stays finite
/// in f32 (EEG in µV is below 1e4).
const MAX_MAGNITUDE: f64 = 1e15;

/// One split as read: its trials, the files it came from, and the largest label.
struct Loaded {
    split: Split,
    files: String,
    channels: usize,
    samples: usize,
    largest_label: u8,
    /// Each file and the sampling rate it states.
    sfreq: Vec<(String, Option<f64>)>,
}

/// The data set's shape from its two splits: they agree on channels and samples, the labels
/// are 1..K with K from 2 to [`dataset::MAX_CLASSES`], every class has training trials, and
/// the test labels lie within 1..K.
fn shape_of(dir: &Path, train: &Loaded, test: &Loaded) -> Result<Shape> {
    if (train.channels, train.samples) != (test.channels, test.samples) {
        bail!(
            "{}: the training files ({}) hold trials of {} samples × {} channels but the test files ({}) {} × {}; both splits need the same channels and window",
            dir.display(),
            train.files,
            train.samples,
            train.channels,
            test.files,
            test.samples,
            test.channels
        );
    }
    let classes = train.largest_label as usize + 1;
    let mut counts = vec![0usize; classes];
    train.split.y.iter().for_each(|&y| counts[y as usize] += 1);
    let missing: Vec<String> = (0..classes)
        .filter(|&c| counts[c] == 0)
        .map(|c| (c + 1).to_string())
        .collect();
    if classes < 2 {
        bail!(
            "{}: every training label is 1: a classifier needs at least 2 classes (labels 1..K)",
            train.files
        );
    }
    if !missing.is_empty() {
        bail!(
            "{}: labels run 1..{classes} but label {} has no training trials; labels must be 1..K with every class in the training split",
            train.files,
            missing.join(", ")
        );
    }
    if test.largest_label > train.largest_label {
        bail!(
            "{}: label {} appears in the test split, but the training labels are 1..{classes}",
            test.files,
            test.largest_label as usize + 1
        );
    }
    let shape = Shape {
        channels: train.channels,
        samples: train.samples,
        classes,
    };
    shape.check().map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    Ok(shape)
}

/// Reads and concatenates files of one split: `signal` (N, T, C) → (N, C, T),
/// `label` 1..K → 0..K−1, NaN → the nanmean of the whole split (as the lab's loader does).
/// Every file of the split has the same C and T, within eegrun's bounds.
fn load_split(dir: &Path, files: &[&str]) -> Result<Loaded> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut window: Option<(usize, usize, String)> = None;
    let mut largest_label = 0u8;
    let mut sfreq = Vec::new();
    for name in files {
        let path = dir.join(name);
        let arrays = npz::read_arrays(&path, &["signal", "label"])?;
        sfreq.push((path.display().to_string(), read_sfreq(&path)?));
        let (signal, label) = (&arrays[0], &arrays[1]);
        let [n, samples, channels] = signal.shape[..] else {
            bail!(
                "{}: signal has shape {:?}, expected 3 axes (trials, samples, channels)",
                path.display(),
                signal.shape
            );
        };
        if channels == 0
            || samples == 0
            || channels > dataset::MAX_CHANNELS
            || samples > dataset::MAX_SAMPLES
            || channels * samples > dataset::MAX_TRIAL_VALUES
        {
            let e = Shape {
                channels,
                samples,
                classes: 2,
            }
            .check()
            .err()
            .unwrap_or_default();
            bail!("{}: signal has shape {:?}: {e}", path.display(), signal.shape);
        }
        match &window {
            Some((t, c, first)) if (*t, *c) != (samples, channels) => bail!(
                "{}: signal has shape {:?}, but {first} has (N, {t}, {c}); the files of a split need the same channels and window",
                path.display(),
                signal.shape
            ),
            Some(_) => {}
            None => window = Some((samples, channels, name.to_string())),
        }
        let label_n = label.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if label_n != Some(n) || label.shape.len() > 2 {
            bail!(
                "{}: label has shape {:?}, expected ({n},) to match signal's {n} trials",
                path.display(),
                label.shape
            );
        }
        for (i, &l) in label.data.iter().enumerate() {
            if !(l >= 1.0 && l <= dataset::MAX_CLASSES as f64 && l.fract() == 0.0) {
                let hint = if l == 0.0 {
                    " (labels 0..K−1? add 1: eegrun reads the lab's 1 = left, 2 = right)"
                } else {
                    ""
                };
                bail!(
                    "{}: label[{i}] is {l}, expected a whole number from 1 to K (at most {}){hint}",
                    path.display(),
                    dataset::MAX_CLASSES
                );
            }
            let class = (l - 1.0) as u8;
            largest_label = largest_label.max(class);
            y.push(class);
        }
        if let Some(i) = signal.data.iter().position(|v| v.abs() > MAX_MAGNITUDE) {
            let (trial, t, c) = (i / (samples * channels), i / channels % samples, i % channels);
            bail!(
                "{}: signal[{trial}, {t}, {c}] is {:?}; eegrun reads values up to ±{MAX_MAGNITUDE:e} (beyond that the first layer's batch statistics overflow 32-bit floats; only NaN is filled in)",
                path.display(),
                signal.data[i]
            );
        }
        x.reserve(signal.data.len());
        for trial in signal.data.chunks_exact(samples * channels) {
            for c in 0..channels {
                x.extend((0..samples).map(|t| trial[t * channels + c] as f32));
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
    let (samples, channels, _) = window.expect("a split has at least one file");
    Ok(Loaded {
        split: Split {
            x: x.into(),
            y,
            trial_len: samples * channels,
        },
        files: files
            .iter()
            .map(|f| dir.join(f).display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        channels,
        samples,
        largest_label,
        sfreq,
    })
}
