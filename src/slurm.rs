//! `eegrun slurm`: an experiment's unfinished runs as one Slurm job array. Each array task
//! runs `eegrun run … --run-id ID` on the shared run store, so locks, checkpoints and
//! resume work as for local runs and a failed or preempted task can simply be resubmitted.

use crate::cli::SlurmArgs;
use crate::store::{now_unix, State};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Quotes a word for a POSIX shell.
fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    })
}

/// The sbatch script for `count` tasks whose run ids are listed, one per line, in `ids`.
fn script(args: &SlurmArgs, name: &str, count: usize, ids: &Path, logs: &Path) -> Result<String> {
    let sel = &args.selection;
    let mut header = vec![
        format!("#SBATCH --job-name=eegrun-{name}"),
        format!(
            "#SBATCH --array=0-{}{}",
            count - 1,
            args.max_parallel.map(|k| format!("%{k}")).unwrap_or_default()
        ),
        format!("#SBATCH --output={}/task-%A_%a.log", logs.display()),
        format!("#SBATCH --cpus-per-task={}", args.cpus_per_task),
    ];
    header.extend(args.partition.iter().map(|p| format!("#SBATCH --partition={p}")));
    header.extend(
        args.gpus_per_task
            .iter()
            .map(|g| format!("#SBATCH --gpus-per-task={g}")),
    );
    header.extend(args.time.iter().map(|t| format!("#SBATCH --time={t}")));
    let mut command = vec![
        absolute(&std::env::current_exe()?)?.display().to_string(),
        "run".into(),
        absolute(&crate::experiment::resolve_path(&sel.experiment))?
            .display()
            .to_string(),
        "--runs-dir".into(),
        absolute(&sel.runs_dir)?.display().to_string(),
    ];
    for o in &sel.overrides {
        command.extend(["--set".into(), o.clone()]);
    }
    if let Some(data) = &sel.data {
        let data = match crate::data::Source::parse(data)? {
            crate::data::Source::Dir(dir) => absolute(&dir)?.display().to_string(),
            _ => data.clone(),
        };
        command.extend(["--data".into(), data]);
    }
    let device = match (sel.device, args.gpus_per_task) {
        (Some(d), _) => Some(format!("{d:?}").to_lowercase()),
        (None, Some(g)) if g > 0 => Some("cuda".into()),
        _ => None,
    };
    if let Some(device) = device {
        command.extend(["--device".into(), device]);
    }
    let command: Vec<String> = command.iter().map(|w| shell_quote(w)).collect();
    Ok(format!(
        "#!/usr/bin/env bash\n{}\n# Written by eegrun slurm: one array task per unfinished run of '{name}'.\nset -euo pipefail\ncd {}\nid=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" {})\nexec {} --run-id \"$id\" --jobs 1 --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"\n",
        header.join("\n"),
        shell_quote(&std::env::current_dir()?.display().to_string()),
        shell_quote(&ids.display().to_string()),
        command.join(" ")
    ))
}

/// Writes the job's files under `runs/<experiment>/slurm/<time>/` and submits them.
pub fn submit(args: SlurmArgs) -> Result<()> {
    let (experiment, _, runs) = args.selection.plan()?;
    let pending: Vec<String> = runs
        .iter()
        .filter(|r| !matches!(r.dir.status().ok().flatten().map(|s| s.state), Some(State::Done)))
        .map(|r| r.record.id())
        .collect();
    if pending.is_empty() {
        println!("all {} runs are done; nothing to submit", runs.len());
        return Ok(());
    }
    let dir = args
        .selection
        .runs_dir
        .join(&experiment.name)
        .join("slurm")
        .join(now_unix().to_string());
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let dir = absolute(&dir)?;
    let ids = dir.join("run_ids.txt");
    std::fs::write(&ids, pending.join("\n") + "\n")?;
    let path = dir.join("job.sbatch");
    std::fs::write(&path, script(&args, &experiment.name, pending.len(), &ids, &dir)?)?;
    println!(
        "{} of {} runs to submit; script {}",
        pending.len(),
        runs.len(),
        path.display()
    );
    if args.dry_run {
        print!("{}", std::fs::read_to_string(&path)?);
        return Ok(());
    }
    let output = Command::new("sbatch")
        .arg("--parsable")
        .arg(&path)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "sbatch not found: is Slurm installed and on PATH? (the script is at {})",
                    path.display()
                )
            } else {
                anyhow::anyhow!("cannot run sbatch: {e}")
            }
        })?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).trim().replace('\n', " ");
        bail!("sbatch rejected {}: {message}", path.display());
    }
    let job = String::from_utf8_lossy(&output.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    std::fs::write(dir.join("job_id"), format!("{job}\n"))?;
    println!(
        "submitted job {job}: {} array tasks; task logs in {}",
        pending.len(),
        dir.display()
    );
    Ok(())
}
