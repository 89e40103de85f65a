//! Bounded property tests: the npy reader and the experiment parser return a value or an
//! error for any input — they never panic — and a valid array survives a round trip.

use eegrun::data::npz::parse_npy;
use eegrun::experiment::Experiment;
use proptest::prelude::*;
use std::path::Path;

fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
    let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    out
}

const VALID_EXPERIMENT: &str = r#"name = "x"
data = "synthetic:1:8"
[defaults]
epochs = 2
[grid]
model = ["eegnet", "deepconvnet"]
dropout = [0.1, 0.5]
[search]
samples = 3
seed = 7
lr = { log_uniform = [1e-4, 1e-2] }
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn npy_reader_never_panics_on_mutated_files(
        descr in prop::sample::select(vec!["<f8", ">f4", "<f2", "|b1", "<i2", ">u8", "<c8", "x", ""]),
        shape in "\\(?[0-9, ()x]{0,24}\\)?",
        body in prop::collection::vec(any::<u8>(), 0..64),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = npy(descr, &shape, &body);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let keep = cut.index(bytes.len() + 1);
        let _ = parse_npy(&bytes[..keep]);
    }

    #[test]
    fn valid_arrays_round_trip(values in prop::collection::vec(-1e30f64..1e30, 1..40)) {
        let body: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let array = parse_npy(&npy("<f8", &format!("({},)", values.len()), &body)).unwrap();
        prop_assert_eq!(array.shape, vec![values.len()]);
        prop_assert_eq!(array.data, values);
    }

    #[test]
    fn experiment_parser_never_panics_on_mutated_files(
        edits in prop::collection::vec((any::<prop::sample::Index>(), "[\\[\\]{}=\",.#a-z0-9\n -]{0,6}"), 1..4),
    ) {
        let mut text = VALID_EXPERIMENT.to_string();
        for (at, insert) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            text.insert_str(i, &insert);
        }
        if let Err(e) = Experiment::parse(Path::new("f.toml"), &text) {
            let message = format!("{e:#}");
            prop_assert!(message.starts_with("f.toml:"), "{}", message);
            prop_assert_eq!(message.lines().count(), 1, "{}", message);
        }
    }
}
