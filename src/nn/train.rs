//! The lab's training loop: Adam, cross-entropy, shuffled mini-batches, per-epoch
//! evaluation, and checkpoints that resume to identical results.

use super::adam::{Adam, AdamConfig};
use super::backend::Backend;
use super::checkpoint;
use super::model::{Model, ModelSpec};
use crate::config::RunSpec;
use crate::data::{Dataset, Shape, Split};
use crate::results::{summarize, EpochMetrics, Predictions, RunSummary};
use anyhow::{bail, ensure, Context, Result};
use dfdx::prelude::*;
use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// Adam's settings from a run's spec (narrowed to the engine's f32).
fn adam_config(spec: &RunSpec) -> AdamConfig {
    AdamConfig {
        lr: spec.lr as f32,
        betas: (spec.beta1 as f32, spec.beta2 as f32),
        eps: spec.eps as f32,
        weight_decay: spec.weight_decay as f32,
    }
}

/// Checkpoint header.
#[derive(Serialize, Deserialize)]
struct CheckpointMeta {
    config: RunSpec,
    data_fingerprint: String,
    adam_step: u64,
    history: Vec<EpochMetrics>,
    predictions: Predictions,
}

/// A training run in progress: model, optimiser, data and history.
pub struct Trainer<D: Backend> {
    /// The run's settings.
    pub config: RunSpec,
    /// The network.
    pub model: Model<D>,
    /// Its optimiser.
    pub adam: Adam<D>,
    /// Metrics of every epoch trained so far.
    pub history: Vec<EpochMetrics>,
    /// Test predictions at the last, highest-test and best-validation epochs.
    pub predictions: Predictions,
    dev: D,
    train: Split,
    val: Option<Split>,
    test: Split,
    data_fingerprint: String,
    shape: Shape,
}

/// An RNG for one purpose of one epoch: a pure function of (seed, purpose, epoch), so a
/// resumed run draws exactly what an uninterrupted one would.
fn stream(seed: u64, purpose: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose << 32 | epoch as u64);
    rng
}
const INIT: u64 = 1;
const SHUFFLE: u64 = 2;
const VALIDATION: u64 = 3;

impl<D: Backend> Trainer<D> {
    /// A fresh run: model initialised from the seed, validation split carved out if asked.
    pub fn new(dev: D, config: RunSpec, data: &Dataset) -> Result<Self> {
        let spec = ModelSpec::new(&config, data.shape);
        ensure!(
            !data.train.is_empty() && !data.test.is_empty(),
            "{}: empty train or test split",
            data.description
        );
        spec.check()
            .map_err(|e| anyhow::anyhow!("{e} (data: {}, {})", data.description, data.shape))?;
        let model = Model::new(&dev, spec, &mut stream(config.seed, INIT, 0));
        let adam = Adam::new(&dev, adam_config(&config), &model.learnable_lengths());
        check_hold_out(&data.train, data.shape.classes, config.val_fraction)?;
        let (train, val) = hold_out(
            &data.train,
            data.shape.classes,
            config.val_fraction as f32,
            &mut stream(config.seed, VALIDATION, 0),
        );
        Ok(Self {
            config,
            model,
            adam,
            history: Vec::new(),
            predictions: Predictions {
                labels: data.test.y.clone(),
                ..Predictions::default()
            },
            dev,
            train,
            val,
            test: data.test.clone(),
            data_fingerprint: data.fingerprint.clone(),
            shape: data.shape,
        })
    }

    /// True when every configured epoch has run.
    pub fn finished(&self) -> bool {
        self.history.len() >= self.config.epochs
    }

    /// Trains one epoch, evaluates, records and returns the metrics.
    pub fn run_epoch(&mut self) -> Result<&EpochMetrics> {
        let epoch = self.history.len() + 1;
        let mut rng = stream(self.config.seed, SHUFFLE, epoch);
        let start = Instant::now();
        let mut order: Vec<usize> = (0..self.train.len()).collect();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        for batch in order.chunks(self.config.batch_size) {
            let Batch { x, targets, labels } = self.batch(&self.train, batch);
            let logits = self.model.forward(x.traced(Gradients::leaky()), true, &mut rng);
            correct += count_correct(&logits.retaped::<NoneTape>().as_vec(), self.shape.classes, &labels);
            let loss = cross_entropy_with_logits_loss(logits, targets);
            let loss_value = loss.retaped::<NoneTape>().as_vec()[0];
            if !loss_value.is_finite() {
                bail!("epoch {epoch}: training loss is {loss_value} (diverged); try a smaller lr");
            }
            loss_sum += loss_value as f64 * batch.len() as f64;
            let grads = loss.backward();
            self.adam.update(self.model.learnable_mut(), &grads);
        }
        let train_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let (test_loss, test_acc, predicted) = self.evaluate(&self.test.clone());
        let val = self.val.clone().map(|v| self.evaluate(&v));
        let n = self.train.len() as f64;
        // First maximum wins, as in `summarize`.
        let best = |key: fn(&EpochMetrics) -> Option<f64>, now: Option<f64>| {
            now.is_some_and(|v| self.history.iter().all(|m| key(m).is_some_and(|b| v > b)))
        };
        if best(|m| Some(m.test_acc), Some(test_acc)) {
            self.predictions.best_test = predicted.clone();
        }
        if best(|m| m.val_acc, val.as_ref().map(|v| v.1)) {
            self.predictions.best_val = predicted.clone();
        }
        self.predictions.final_epoch = predicted;
        self.history.push(EpochMetrics {
            epoch,
            train_loss: loss_sum / n,
            train_acc: correct as f64 / n,
            test_loss,
            test_acc,
            val_loss: val.as_ref().map(|v| v.0),
            val_acc: val.as_ref().map(|v| v.1),
            train_seconds,
            eval_seconds: start.elapsed().as_secs_f64(),
        });
        Ok(self.history.last().expect("just pushed"))
    }

    /// Mean loss, accuracy and each trial's predicted class in evaluation mode (running
    /// BatchNorm stats, no dropout).
    pub fn evaluate(&mut self, split: &Split) -> (f64, f64, Vec<u8>) {
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        let mut predicted = Vec::with_capacity(split.len());
        let indices: Vec<usize> = (0..split.len()).collect();
        let mut no_rng = stream(0, 0, 0);
        for batch in indices.chunks(self.config.batch_size) {
            let Batch { x, targets, labels } = self.batch(split, batch);
            let logits = self.model.forward(x, false, &mut no_rng);
            let values = logits.as_vec();
            correct += count_correct(&values, self.shape.classes, &labels);
            predicted.extend(values.chunks(self.shape.classes).map(|row| arg_max(row) as u8));
            let loss = cross_entropy_with_logits_loss(logits, targets);
            loss_sum += loss.as_vec()[0] as f64 * batch.len() as f64;
        }
        let n = split.len() as f64;
        (loss_sum / n, correct as f64 / n, predicted)
    }

    /// Input, one-hot targets and labels for the given trials.
    fn batch(&self, split: &Split, indices: &[usize]) -> Batch<D> {
        let n = indices.len();
        let x: Vec<f32> = indices.iter().flat_map(|&i| split.trial(i).iter().copied()).collect();
        let labels: Vec<u8> = indices.iter().map(|&i| split.y[i]).collect();
        let Shape {
            channels,
            samples,
            classes,
        } = self.shape;
        let onehot = labels
            .iter()
            .flat_map(|&l| (0..classes).map(move |c| (c == l as usize) as u8 as f32))
            .collect();
        Batch {
            x: self.dev.tensor_from_vec(x, (n, 1, channels, samples)),
            targets: self.dev.tensor_from_vec(onehot, (n, classes)),
            labels,
        }
    }

    /// The summary of the epochs run so far.
    pub fn summary(&self) -> Option<RunSummary> {
        summarize(&self.history)
    }

    /// Saves model, optimiser state and history (atomically).
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        let mut tensors: Vec<(String, Vec<f32>)> = self
            .model
            .tensors()
            .iter()
            .map(|t| (t.name.clone(), t.tensor.as_vec()))
            .collect();
        for (i, (m, v)) in self.adam.first_moment.iter().zip(&self.adam.second_moment).enumerate() {
            tensors.push((format!("adam.{i}.m"), m.as_vec()));
            tensors.push((format!("adam.{i}.v"), v.as_vec()));
        }
        let meta = CheckpointMeta {
            config: self.config,
            data_fingerprint: self.data_fingerprint.clone(),
            adam_step: self.adam.step,
            history: self.history.clone(),
            predictions: self.predictions.clone(),
        };
        checkpoint::save(path, &meta, &tensors)
    }

    /// Restores a checkpoint written by [`Trainer::save_checkpoint`] for the same
    /// config and data.
    pub fn load_checkpoint(&mut self, path: &Path) -> Result<()> {
        let (meta, tensors): (CheckpointMeta, _) = checkpoint::load(path)?;
        ensure!(
            meta.config == self.config,
            "{}: checkpoint was written for a different configuration",
            path.display()
        );
        ensure!(
            meta.data_fingerprint == self.data_fingerprint,
            "{}: checkpoint was written for different data",
            path.display()
        );
        let mut values = tensors.into_iter();
        let dev = self.dev.clone();
        let mut restore = |target: &mut super::ops::Param<D>, what: &str| -> Result<()> {
            let (name, v) = values
                .next()
                .with_context(|| format!("{}: checkpoint lacks {what}", path.display()))?;
            ensure!(
                v.len() == target.shape().0,
                "{}: tensor {name} has {} values, expected {}",
                path.display(),
                v.len(),
                target.shape().0
            );
            *target = dev.tensor_from_vec(v, (target.shape().0,));
            Ok(())
        };
        for t in self.model.tensors_mut() {
            restore(t, "model tensors")?;
        }
        for (m, v) in self
            .adam
            .first_moment
            .iter_mut()
            .zip(self.adam.second_moment.iter_mut())
        {
            restore(m, "Adam state")?;
            restore(v, "Adam state")?;
        }
        self.adam.step = meta.adam_step;
        self.history = meta.history;
        self.predictions = meta.predictions;
        Ok(())
    }
}

/// A mini-batch: input (n, 1, C, T), one-hot targets (n, K) and the labels.
struct Batch<D: Backend> {
    x: Tensor<super::ops::Shape4, f32, D>,
    targets: Tensor<(usize, usize), f32, D>,
    labels: Vec<u8>,
}

/// Splits off a class-balanced validation set of `fraction` of each class.
/// Checks that `fraction` of each of the `classes` classes of `split` holds out at least one
/// trial and leaves at least one to train on (as [`hold_out`] rounds), naming the counts it
/// became.
pub fn check_hold_out(split: &Split, classes: usize, fraction: f64) -> Result<()> {
    if fraction <= 0.0 {
        return Ok(());
    }
    for class in 0..classes as u8 {
        let members = split.y.iter().filter(|&&y| y == class).count();
        let held = (members as f32 * fraction as f32).round() as usize;
        ensure!(
            held > 0,
            "val_fraction {fraction} holds out 0 of the {members} training trials of class {class}: {} or more holds out one",
            (500.0 / members.max(1) as f64).ceil() / 1000.0
        );
        ensure!(
            held < members,
            "val_fraction {fraction} holds out all {members} training trials of class {class}, leaving none to train on"
        );
    }
    Ok(())
}

fn hold_out(split: &Split, classes: usize, fraction: f32, rng: &mut impl Rng) -> (Split, Option<Split>) {
    if fraction <= 0.0 {
        return (split.clone(), None);
    }
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for class in 0..classes as u8 {
        let mut members: Vec<usize> = (0..split.len()).filter(|&i| split.y[i] == class).collect();
        members.shuffle(rng);
        let held = (members.len() as f32 * fraction).round() as usize;
        val.extend_from_slice(&members[..held]);
        train.extend_from_slice(&members[held..]);
    }
    train.sort_unstable();
    val.sort_unstable();
    (split.select(&train), Some(split.select(&val)))
}

/// The first class with the highest logit.
fn arg_max(row: &[f32]) -> usize {
    (1..row.len()).fold(0, |best, c| if row[c] > row[best] { c } else { best })
}

fn count_correct(logits: &[f32], classes: usize, labels: &[u8]) -> usize {
    logits
        .chunks(classes)
        .zip(labels)
        .filter(|(row, &label)| arg_max(row) == label as usize)
        .count()
}
