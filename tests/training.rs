//! The training loop: learning, determinism, resume from checkpoints, validation.

mod common;

use common::Scratch;

use dfdx::prelude::*;
use eegrun::config::{ActivationName, ModelKind, RunFields, RunSpec};
use eegrun::data::{synthetic, Dataset};
use eegrun::nn::train::Trainer;
use eegrun::store::EpochMetrics;

/// A small synthetic data set (160 train / 160 test trials).
fn small_data() -> Dataset {
    let full = synthetic::generate(1, 160, eegrun::data::Shape::LAB);
    let first: Vec<usize> = (0..160).collect();
    Dataset::new(
        "synthetic subset".into(),
        eegrun::data::Shape::LAB,
        full.train.select(&first),
        full.test.select(&first),
    )
}

fn config(model: &str, epochs: usize) -> RunSpec {
    RunFields {
        model: Some(model.parse().unwrap()),
        activation: Some(ActivationName::Elu),
        epochs: Some(epochs),
        batch_size: Some(32),
        seed: Some(5),
        ..RunFields::default()
    }
    .resolve()
    .unwrap()
}

/// Metrics without the wall-clock fields.
fn numbers(history: &[EpochMetrics]) -> Vec<[f64; 4]> {
    history
        .iter()
        .map(|m| [m.train_loss, m.train_acc, m.test_loss, m.test_acc])
        .collect()
}

fn train(config: RunSpec, data: &Dataset) -> Trainer<Cpu> {
    let mut trainer = Trainer::new(Cpu::default(), config, data).unwrap();
    while !trainer.finished() {
        trainer.run_epoch().unwrap();
    }
    trainer
}

#[test]
fn eegnet_learns_the_synthetic_rhythms() {
    let data = synthetic::generate(0, 1080, eegrun::data::Shape::LAB);
    let trainer = train(
        RunSpec {
            epochs: 3,
            ..config("eegnet", 3)
        },
        &data,
    );
    let summary = trainer.summary().unwrap();
    assert!(
        summary.best_test_acc > 0.8,
        "best test accuracy {}",
        summary.best_test_acc
    );
    assert!(trainer.history[2].train_loss < trainer.history[0].train_loss);
}

#[test]
fn same_seed_gives_identical_metrics() {
    let data = small_data();
    for model in ["eegnet", "deepconvnet"] {
        let a = train(config(model, 2), &data);
        let b = train(config(model, 2), &data);
        assert_eq!(numbers(&a.history), numbers(&b.history), "{model}");
        let c = train(
            RunSpec {
                seed: 6,
                ..config(model, 2)
            },
            &data,
        );
        assert_ne!(numbers(&a.history), numbers(&c.history), "{model}: another seed");
    }
}

#[test]
fn resuming_from_a_checkpoint_matches_an_uninterrupted_run() {
    let data = small_data();
    let dir = Scratch::new("resume");
    let path = dir.join("checkpoint.bin");
    let uninterrupted = train(config("eegnet", 3), &data);

    let mut first = Trainer::new(Cpu::default(), config("eegnet", 3), &data).unwrap();
    first.run_epoch().unwrap();
    first.save_checkpoint(&path).unwrap();
    drop(first);
    let mut resumed = Trainer::new(Cpu::default(), config("eegnet", 3), &data).unwrap();
    resumed.load_checkpoint(&path).unwrap();
    assert_eq!(resumed.history.len(), 1);
    while !resumed.finished() {
        resumed.run_epoch().unwrap();
    }
    assert_eq!(numbers(&resumed.history), numbers(&uninterrupted.history));

    let mut other = Trainer::new(Cpu::default(), config("deepconvnet", 3), &data).unwrap();
    let e = format!("{:#}", other.load_checkpoint(&path).unwrap_err());
    assert!(e.contains("different configuration"), "{e}");
    std::fs::write(&path, b"EEGRUNCKgarbage").unwrap();
    assert!(format!("{:#}", resumed.load_checkpoint(&path).unwrap_err()).contains("not a valid eegrun checkpoint"));
}

#[test]
fn validation_split_is_balanced_and_reported() {
    let data = small_data();
    let trainer = train(
        RunSpec {
            val_fraction: 0.25,
            ..config("eegnet", 2)
        },
        &data,
    );
    let summary = trainer.summary().unwrap();
    let epoch = summary.best_val_epoch.expect("best validation epoch");
    assert_eq!(summary.test_acc_at_best_val, Some(trainer.history[epoch - 1].test_acc));
    assert!(trainer.history.iter().all(|m| m.val_acc.is_some()));
}

#[test]
fn invalid_configs_are_rejected_before_training() {
    for (fields, message) in [
        (
            RunFields {
                dropout: Some(1.0),
                ..RunFields::default()
            },
            "dropout must be in [0, 1)",
        ),
        (
            RunFields {
                batch_size: Some(0),
                ..RunFields::default()
            },
            "batch_size must be ≥ 1",
        ),
        (
            RunFields {
                lr: Some(0.0),
                ..RunFields::default()
            },
            "lr must be > 0",
        ),
        (
            RunFields {
                val_fraction: Some(1.0),
                ..RunFields::default()
            },
            "val_fraction",
        ),
    ] {
        let e = fields.resolve().expect_err("rejected");
        assert!(e.contains(message), "{e}");
    }
    let e = "resnet".parse::<ModelKind>().expect_err("rejected");
    assert!(e.contains("unknown model 'resnet'"), "{e}");
}
