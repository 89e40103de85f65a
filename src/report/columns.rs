//! Column names of the summary tables, shared by the summary, the check and the CLI.

/// The experiment's name.
pub const EXPERIMENT: &str = "experiment";
/// The run's id (its folder's name).
pub const RUN_ID: &str = "run_id";
/// eegnet or deepconvnet.
pub const MODEL: &str = "model";
/// The activation's name.
pub const ACTIVATION: &str = "activation";
/// Dropout probability.
pub const DROPOUT: &str = "dropout";
/// Trials per batch.
pub const BATCH_SIZE: &str = "batch_size";
/// Learning rate.
pub const LR: &str = "lr";
/// Adam's weight decay.
pub const WEIGHT_DECAY: &str = "weight_decay";
/// The run's seed.
pub const SEED: &str = "seed";
/// Epochs trained so far.
pub const EPOCHS_DONE: &str = "epochs_done";
/// Epochs the run trains.
pub const EPOCHS: &str = "epochs";
/// The configuration's identity: 8 hex digits of [`crate::store::RunRecord::configuration`]
/// (every training setting but the seed, and the data), so runs that differ in any setting are
/// never pooled.
pub const CONFIG: &str = "config";
/// The architecture fields of a run's model that differ from the lab's
/// (`eegnet.f1=8 eegnet.kernel=33`; empty for the lab's architecture), and its temporal kernel
/// in seconds where the data states its sampling rate (`kernel 33 = 0.206 s at 160 Hz`).
pub const ARCHITECTURE: &str = "architecture";
/// The data set the run trained on, as described in its record (folder and files, or the
/// synthetic source); its fingerprint is part of `config`.
pub const DATA: &str = "data";
/// Which trials trained and tested the run: pooled, within-subject or cross-subject.
pub const PROTOCOL: &str = "protocol";
/// A per-subject protocol's subject, or a fold's held-out subjects (space-separated).
pub const SUBJECT: &str = "subject";
/// A cross-subject run's fold, "k/n".
pub const FOLD: &str = "fold";
/// The run's state (done, partial, stopped, failed, …).
pub const STATUS: &str = "status";
/// The early-stopping rung (1 = first) that stopped a run; empty for others.
pub const STOPPED_RUNG: &str = "stopped_rung";
/// Highest test accuracy over the epochs, percent.
pub const BEST_TEST_ACC: &str = "best_test_acc";
/// The epoch of the highest test accuracy.
pub const BEST_EPOCH: &str = "best_epoch";
/// Test accuracy at the last epoch, percent.
pub const FINAL_TEST_ACC: &str = "final_test_acc";
/// Train accuracy at the last epoch, percent.
pub const FINAL_TRAIN_ACC: &str = "final_train_acc";
/// Final train minus final test accuracy, points.
pub const TRAIN_TEST_GAP: &str = "train_test_gap";
/// Balanced accuracy (mean recall over the classes) at the last epoch, percent.
pub const FINAL_BALANCED_ACC: &str = "final_balanced_acc";
/// Cohen's kappa at the last epoch.
pub const FINAL_KAPPA: &str = "final_kappa";
/// Training and evaluation time, seconds.
pub const WALL_SECONDS: &str = "wall_seconds";

/// Grouped tables: runs and seeds per group, the states found, and `<metric>_mean`/`_std`.
pub const RUNS: &str = "runs";
/// The states of a group's runs, counted ("2 done, 1 partial").
pub const STATES: &str = "states";
/// Distinct seeds in a group.
pub const SEEDS: &str = "seeds";
/// How many of a group's runs its means and sds are over: the done ones.
pub const MEANS_OVER: &str = "means_over";

/// The name of a metric's mean or standard deviation in a grouped table.
pub fn mean(metric: &str) -> String {
    format!("{metric}_mean")
}

/// See [`mean`].
pub fn std(metric: &str) -> String {
    format!("{metric}_std")
}

/// The configuration columns a summary groups by unless told otherwise (all but the seed).
pub const DEFAULT_GROUP_BY: [&str; 9] = [
    EXPERIMENT,
    MODEL,
    ACTIVATION,
    DROPOUT,
    BATCH_SIZE,
    LR,
    WEIGHT_DECAY,
    EPOCHS,
    CONFIG,
];
/// [`DEFAULT_GROUP_BY`] as clap's default value.
pub const DEFAULT_GROUP_BY_TEXT: &str = "experiment,model,activation,dropout,batch_size,lr,weight_decay,epochs,config";

#[cfg(test)]
mod tests {
    #[test]
    fn default_group_by_text_matches_the_list() {
        assert_eq!(super::DEFAULT_GROUP_BY.join(","), super::DEFAULT_GROUP_BY_TEXT);
    }
}
