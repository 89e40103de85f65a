//! A seeded synthetic source shaped like the lab data: two classes that differ in
//! which channel carries a stronger 8–13 Hz (mu) rhythm, buried in noise.

use super::dataset::{Dataset, Split, CHANNELS, SAMPLES};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Trials per split, as in the lab (540 per subject file, two subjects).
pub const TRIALS: usize = 1080;
/// The most trials per split `synthetic:SEED:TRIALS` may ask for (about 1.2 GB in memory).
pub const MAX_TRIALS: usize = 100_000;
/// Sampling rate of the lab data (Hz).
const RATE: f32 = 125.0;

/// Generates `trials` train and `trials` test trials from `seed`.
pub fn generate(seed: u64, trials: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let train = split(&mut rng, trials);
    let test = split(&mut rng, trials);
    let size = if trials == TRIALS {
        String::new()
    } else {
        format!(", {trials} trials")
    };
    Dataset::new(format!("synthetic (seed {seed}{size})"), train, test)
}

fn split(rng: &mut ChaCha8Rng, trials: usize) -> Split {
    let mut x = Vec::with_capacity(trials * CHANNELS * SAMPLES);
    let mut y = Vec::with_capacity(trials);
    for _ in 0..trials {
        let label = rng.gen_range(0..2u8);
        let freq = rng.gen_range(8.0..13.0f32);
        for channel in 0..CHANNELS {
            // Class 0 has the stronger rhythm on channel 1, class 1 on channel 0.
            let amplitude = if channel as u8 == label { 0.4 } else { 0.6 };
            let phase = rng.gen_range(0.0..std::f32::consts::TAU);
            for t in 0..SAMPLES {
                let rhythm = amplitude * (std::f32::consts::TAU * freq * t as f32 / RATE + phase).sin();
                let noise: f32 = rng.sample(StandardNormal);
                x.push(rhythm + noise);
            }
        }
        y.push(label);
    }
    Split { x: x.into(), y }
}
