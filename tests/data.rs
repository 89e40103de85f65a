//! Data loading: the lab layout, NaN handling, and one clear error per kind of bad input.

mod common;

use common::Scratch;

use eegrun::data::{load_dir, synthetic, Source};
use std::io::Write;
use std::path::Path;

/// Writes a `.npy` blob of f64 values.
fn npy(shape: &[usize], values: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_text}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    out
}

/// Writes an npz with `signal` (n, t, c) and `label` arrays like numpy.savez.
fn write_npz(path: &Path, signal_shape: &[usize], signal: &[f64], labels: &[f64]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored = zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("signal.npy", stored).unwrap();
    zip.write_all(&npy(signal_shape, signal)).unwrap();
    zip.start_file("label.npy", stored).unwrap();
    zip.write_all(&npy(&[labels.len()], labels)).unwrap();
    zip.finish().unwrap();
}

/// Lab-layout trials whose value encodes (trial, time, channel).
fn lab_signal(n: usize) -> Vec<f64> {
    (0..n * 750 * 2)
        .map(|i| (i / 1500) as f64 * 1000.0 + ((i % 1500) / 2) as f64 + 0.5 * (i % 2) as f64)
        .collect()
}

fn error_of(dir: &Path) -> String {
    format!("{:#}", load_dir(dir).expect_err("loading should fail"))
}

#[test]
fn pair_layout_is_transposed_and_labels_shifted() {
    let dir = Scratch::new("data-pair");
    write_npz(&dir.join("train.npz"), &[3, 750, 2], &lab_signal(3), &[1.0, 2.0, 2.0]);
    write_npz(&dir.join("test.npz"), &[2, 750, 2], &lab_signal(2), &[2.0, 1.0]);
    let data = load_dir(&dir).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (3, 2));
    assert_eq!(data.train.y, vec![0, 1, 1]);
    // trial 2, channel 1, time 7 ← signal[2, 7, 1]
    assert_eq!(data.train.trial(2)[750 + 7], 2007.5);
    assert_eq!(data.train.trial(1)[5], 1005.0);
}

#[test]
fn lab_files_are_preferred_and_concatenated_in_order() {
    let dir = Scratch::new("data-lab");
    for (name, n) in [
        ("S4b_train.npz", 2),
        ("X11b_train.npz", 3),
        ("S4b_test.npz", 1),
        ("X11b_test.npz", 1),
    ] {
        let labels: Vec<f64> = (0..n).map(|i| 1.0 + (i % 2) as f64).collect();
        write_npz(&dir.join(name), &[n, 750, 2], &lab_signal(n), &labels);
    }
    write_npz(&dir.join("train.npz"), &[1, 750, 2], &lab_signal(1), &[1.0]);
    let data = load_dir(&dir).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (5, 2));
    assert_eq!(
        data.train.trial(2)[0],
        0.0,
        "X11b_train's first trial follows S4b_train's two"
    );
}

#[test]
fn nan_becomes_the_nanmean_of_its_split() {
    let dir = Scratch::new("data-nan");
    let mut signal = vec![2.0; 2 * 1500];
    signal[10] = f64::NAN;
    signal[1500] = 5.0; // other trial
    write_npz(&dir.join("train.npz"), &[2, 750, 2], &signal, &[1.0, 2.0]);
    write_npz(&dir.join("test.npz"), &[1, 750, 2], &vec![1.0; 1500], &[1.0]);
    let data = load_dir(&dir).unwrap();
    let expected = ((2.0 * 2998.0 + 5.0) / 2999.0) as f32;
    assert!(data.train.x.iter().all(|v| !v.is_nan()));
    assert_eq!(data.train.trial(0)[5], expected, "signal[0, 5, 0] was NaN");
}

#[test]
fn bad_inputs_give_one_clear_error_each() {
    let dir = Scratch::new("data-bad");
    assert!(error_of(&dir.join("absent")).contains("data folder not found"));
    assert!(error_of(&dir).contains("no data files"));

    write_npz(&dir.join("S4b_train.npz"), &[1, 750, 2], &lab_signal(1), &[1.0]);
    let e = error_of(&dir);
    assert!(e.contains("incomplete lab data") && e.contains("X11b_test.npz"), "{e}");
    std::fs::remove_file(dir.join("S4b_train.npz")).unwrap();

    // Any shape, but train and test must agree on channels and window.
    write_npz(&dir.join("train.npz"), &[1, 750, 3], &vec![0.0; 2250], &[1.0]);
    write_npz(&dir.join("test.npz"), &[1, 750, 2], &lab_signal(1), &[1.0]);
    let e = error_of(&dir);
    assert!(
        e.contains("train.npz") && e.contains("750 samples × 3 channels") && e.contains("750 × 2"),
        "{e}"
    );
    write_npz(&dir.join("train.npz"), &[2, 750], &vec![0.0; 1500], &[1.0, 2.0]);
    let e = error_of(&dir);
    assert!(
        e.contains("train.npz") && e.contains("expected 3 axes (trials, samples, channels)"),
        "{e}"
    );

    // Labels 1..K with every class in the training split.
    write_npz(&dir.join("train.npz"), &[2, 750, 2], &lab_signal(2), &[1.0, 3.0]);
    let e = error_of(&dir);
    assert!(
        e.contains("train.npz") && e.contains("label 2 has no training trials"),
        "{e}"
    );
    write_npz(&dir.join("train.npz"), &[2, 750, 2], &lab_signal(2), &[0.0, 1.0]);
    let e = error_of(&dir);
    assert!(e.contains("label[0] is 0") && e.contains("add 1"), "{e}");
    write_npz(&dir.join("train.npz"), &[2, 750, 2], &lab_signal(2), &[1.0, 1.5]);
    let e = error_of(&dir);
    assert!(
        e.contains("label[1] is 1.5, expected a whole number from 1 to K"),
        "{e}"
    );

    write_npz(&dir.join("train.npz"), &[2, 750, 2], &lab_signal(2), &[1.0]);
    let e = error_of(&dir);
    assert!(e.contains("label has shape [1]"), "{e}");

    std::fs::write(dir.join("train.npz"), b"hello, not a zip").unwrap();
    let e = error_of(&dir);
    assert!(e.contains("train.npz") && e.contains("not a numpy .npz"), "{e}");
}

/// The real lab files, truncated at 1 MiB (../shared/data/bci-iiib/partial-prefix).
#[test]
fn truncated_lab_files_are_reported_as_truncated() {
    let prefix = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/bci-iiib/partial-prefix");
    if !prefix.is_dir() {
        eprintln!(
            "SKIP truncated_lab_files_are_reported_as_truncated: {} is absent",
            prefix.display()
        );
        return;
    }
    let dir = Scratch::new("data-truncated");
    for name in ["S4b_train.npz", "X11b_train.npz", "S4b_test.npz", "X11b_test.npz"] {
        std::fs::copy(prefix.join(format!("{name}.first-1MiB")), dir.join(name)).unwrap();
    }
    let e = error_of(&dir);
    assert!(
        e.contains("S4b_train.npz") && e.contains("truncated") && e.contains("1048576 bytes"),
        "{e}"
    );
}

#[test]
fn real_stand_in_data_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/eegmmidb-lr-imagery");
    if !dir.is_dir() {
        eprintln!("SKIP real_stand_in_data_loads: {} is absent", dir.display());
        return;
    }
    let data = Source::Dir(dir).load().unwrap();
    assert_eq!((data.train.len(), data.test.len()), (2728, 1363));
    assert_eq!(data.train.y.iter().filter(|&&l| l == 0).count(), 1369);
    assert_eq!(data.test.y.iter().filter(|&&l| l == 1).count(), 680);
}

#[test]
fn synthetic_source_is_seeded_and_shaped_like_the_lab() {
    let a = synthetic::generate(3, 1080, eegrun::data::Shape::LAB);
    assert_eq!(
        (a.train.len(), a.test.len(), a.train.x.len()),
        (1080, 1080, 1080 * 1500)
    );
    assert_eq!(
        a.fingerprint,
        synthetic::generate(3, 1080, eegrun::data::Shape::LAB).fingerprint
    );
    assert_ne!(
        a.fingerprint,
        synthetic::generate(4, 1080, eegrun::data::Shape::LAB).fingerprint
    );
    let ones = a.train.y.iter().filter(|&&l| l == 1).count();
    assert!((400..680).contains(&ones), "classes roughly balanced: {ones}");
    assert_eq!(
        Source::parse("synthetic:3").unwrap(),
        Source::Synthetic {
            seed: 3,
            trials: 1080,
            shape: eegrun::data::Shape::LAB
        }
    );
    assert!(Source::parse("synthetic:x").is_err());
    assert!(Source::parse("synthetic:1:1").is_err());
    assert_eq!(
        Source::parse("synthetic:2:64").unwrap(),
        Source::Synthetic {
            seed: 2,
            trials: 64,
            shape: eegrun::data::Shape::LAB
        }
    );
    assert_eq!(synthetic::generate(2, 64, eegrun::data::Shape::LAB).train.len(), 64);
}
