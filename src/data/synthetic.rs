//! A seeded synthetic source, shaped like the lab data by default: classes that differ in
//! which channels carry a weaker 8–13 Hz (mu) rhythm, buried in noise.

use super::dataset::{Dataset, Shape, Split};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Trials per split, as in the lab (540 per subject file, two subjects).
pub const TRIALS: usize = 1080;
/// The most trials per split `synthetic:SEED:TRIALS` may ask for.
pub const MAX_TRIALS: usize = 100_000;
/// The most values (trials × channels × samples) per split: the lab's shape at
/// [`MAX_TRIALS`], about 1.2 GB for both splits.
pub const MAX_VALUES: usize = MAX_TRIALS * 1500;
/// Sampling rate of the lab data (Hz).
const RATE: f32 = 125.0;

/// Generates `trials` train and `trials` test trials of `shape` from `seed`. The lab's
/// shape gives the same trials it always did.
pub fn generate(seed: u64, trials: usize, shape: Shape) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let train = split(&mut rng, trials, shape);
    let test = split(&mut rng, trials, shape);
    let mut details = String::new();
    if trials != TRIALS {
        details += &format!(", {trials} trials");
    }
    if shape != Shape::LAB {
        details += &format!(", {}x{}x{}", shape.channels, shape.samples, shape.classes);
    }
    Dataset::new(format!("synthetic (seed {seed}{details})"), shape, train, test)
}

/// Class k has the weaker rhythm on channels c with c mod K = k (with 2 channels and 2
/// classes: class 0 on channel 0, class 1 on channel 1).
fn split(rng: &mut ChaCha8Rng, trials: usize, shape: Shape) -> Split {
    let Shape {
        channels,
        samples,
        classes,
    } = shape;
    let mut x = Vec::with_capacity(trials * channels * samples);
    let mut y = Vec::with_capacity(trials);
    for _ in 0..trials {
        let label = rng.gen_range(0..classes as u8);
        let freq = rng.gen_range(8.0..13.0f32);
        for channel in 0..channels {
            let amplitude = if (channel % classes) as u8 == label { 0.4 } else { 0.6 };
            let phase = rng.gen_range(0.0..std::f32::consts::TAU);
            for t in 0..samples {
                let rhythm = amplitude * (std::f32::consts::TAU * freq * t as f32 / RATE + phase).sin();
                let noise: f32 = rng.sample(StandardNormal);
                x.push(rhythm + noise);
            }
        }
        y.push(label);
    }
    Split {
        x: x.into(),
        y,
        trial_len: shape.trial_len(),
    }
}
