//! Column names of the summary tables, shared by the summary, the check and the CLI.

pub const EXPERIMENT: &str = "experiment";
pub const RUN_ID: &str = "run_id";
pub const MODEL: &str = "model";
pub const ACTIVATION: &str = "activation";
pub const DROPOUT: &str = "dropout";
pub const BATCH_SIZE: &str = "batch_size";
pub const LR: &str = "lr";
pub const WEIGHT_DECAY: &str = "weight_decay";
pub const SEED: &str = "seed";
pub const EPOCHS_DONE: &str = "epochs_done";
pub const EPOCHS: &str = "epochs";
/// The configuration's identity: 8 hex digits of [`crate::store::RunRecord::configuration`]
/// (every training setting but the seed, and the data), so runs that differ in any setting are
/// never pooled.
pub const CONFIG: &str = "config";
pub const STATUS: &str = "status";
/// The early-stopping rung (1 = first) that stopped a run; empty for others.
pub const STOPPED_RUNG: &str = "stopped_rung";
pub const BEST_TEST_ACC: &str = "best_test_acc";
pub const BEST_EPOCH: &str = "best_epoch";
pub const FINAL_TEST_ACC: &str = "final_test_acc";
pub const FINAL_TRAIN_ACC: &str = "final_train_acc";
pub const TRAIN_TEST_GAP: &str = "train_test_gap";
pub const WALL_SECONDS: &str = "wall_seconds";

/// Grouped tables: runs and seeds per group, the states found, and `<metric>_mean`/`_std`.
pub const RUNS: &str = "runs";
pub const STATES: &str = "states";
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
