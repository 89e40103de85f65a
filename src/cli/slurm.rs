//! `eegrun slurm`: the experiment's unfinished runs as one Slurm job array.

use super::args::SlurmArgs;
use crate::data::Source;
use crate::schedule::planned_state;
use crate::slurm::Job;
use crate::store::RunState;
use anyhow::Result;

pub(super) fn command(args: SlurmArgs) -> Result<()> {
    let (experiment, _, runs) = super::run::plan(&args.selection)?;
    let pending: Vec<String> = runs
        .iter()
        .filter(|r| planned_state(r) != RunState::Done)
        .map(|r| r.id())
        .collect();
    if pending.is_empty() {
        println!("all {} runs are done; nothing to submit", runs.len());
        return Ok(());
    }
    let sel = &args.selection;
    let data = match sel.data.as_deref().map(Source::parse).transpose()? {
        Some(Source::Dir(dir)) => Some(crate::slurm::absolute(&dir)?.display().to_string()),
        _ => sel.data.clone(),
    };
    let device = sel.device.or(args.gpus_per_task.map(|_| crate::config::Device::Cuda));
    let job = Job {
        experiment_name: experiment.name.clone(),
        experiment_file: crate::experiment::resolve_path(&sel.experiment),
        overrides: sel.overrides.clone(),
        data,
        device,
        runs_dir: sel.runs_dir.clone(),
        run_ids: pending,
        total_runs: runs.len(),
        partition: args.partition,
        gpus_per_task: args.gpus_per_task,
        cpus_per_task: args.cpus_per_task,
        time: args.time,
        max_parallel: args.max_parallel,
    };
    crate::slurm::submit(&job, args.dry_run)
}
