//! `eegrun slurm`: an experiment's unfinished runs as one Slurm job array. Each array task
//! runs `eegrun run … --run-id ID` on the shared run store, so locks, checkpoints and
//! resume work as for local runs and a failed or preempted task can simply be resubmitted.

use crate::atomic_write::write_atomic;
use crate::config::Device;
use crate::store::now_unix;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A job to submit: which runs of which experiment, and the Slurm resources per task.
/// Partition and time must have passed [`parse_partition`] and [`parse_time`].
#[derive(Clone, Debug)]
pub struct Job {
    /// The experiment's name.
    pub experiment_name: String,
    /// The experiment file, as the job will read it.
    pub experiment_file: PathBuf,
    /// `--set` overrides, passed on to each task.
    pub overrides: Vec<String>,
    /// The data source each task loads (folders made absolute).
    pub data: Option<String>,
    /// The device the job's runs train on.
    pub device: Option<Device>,
    /// The runs folder the job writes.
    pub runs_dir: PathBuf,
    /// The unfinished runs, one array task each.
    pub run_ids: Vec<String>,
    /// All runs of the experiment (for the message).
    pub total_runs: usize,
    /// Slurm partition (--partition).
    pub partition: Option<String>,
    /// GPUs per task (--gpus-per-task).
    pub gpus_per_task: Option<u32>,
    /// CPUs per task (--cpus-per-task).
    pub cpus_per_task: u32,
    /// Time limit per task (--time).
    pub time: Option<String>,
    /// Tasks running at once (the array's %N).
    pub max_parallel: Option<u32>,
    /// For a search that decides in steps: `eegrun` arguments that submit its next step,
    /// run by a job that starts when this array has ended (`--dependency=afterany`).
    pub follow_up: Option<Vec<String>>,
}

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

/// A partition list as Slurm names them: comma-separated names of letters, digits, `-_.`.
pub fn parse_partition(text: &str) -> Result<String, String> {
    let name_ok = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if text.split(',').all(name_ok) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "'{}' is not a Slurm partition name (letters, digits, '-', '_', '.'; several separated by commas)",
            text.escape_debug()
        ))
    }
}

/// A time limit in one of Slurm's formats: MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS,
/// DAYS-HOURS, DAYS-HOURS:MINUTES, DAYS-HOURS:MINUTES:SECONDS, or UNLIMITED.
pub fn parse_time(text: &str) -> Result<String, String> {
    let number = |s: &str| !s.is_empty() && s.len() <= 9 && s.chars().all(|c| c.is_ascii_digit());
    let clock = |s: &str, most: usize| {
        let parts: Vec<&str> = s.split(':').collect();
        (1..=most).contains(&parts.len()) && parts.iter().all(|p| number(p))
    };
    let ok = match text.split_once('-') {
        _ if ["UNLIMITED", "INFINITE", "unlimited", "infinite"].contains(&text) => true,
        Some((days, rest)) => number(days) && clock(rest, 3),
        None => clock(text, 3),
    };
    if ok {
        Ok(text.to_string())
    } else {
        Err(format!(
            "'{}' is not a Slurm time limit (MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS, DAYS-HOURS[:MINUTES[:SECONDS]] or UNLIMITED)",
            text.escape_debug()
        ))
    }
}

/// A path for an `#SBATCH` line, which Slurm splits at spaces and reads `%` in as a pattern.
fn directive_path(path: &Path) -> Result<String> {
    let text = path.display().to_string();
    if text
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "'\"\\%".contains(c))
    {
        bail!(
            "{}: the runs folder's path has a space, quote, backslash, '%' or control character, which an #SBATCH line cannot hold; use --runs-dir with a plain path",
            text.escape_debug()
        );
    }
    Ok(text)
}

/// `path` made absolute against the current folder.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    })
}

/// The sbatch script for the job's tasks, whose run ids are listed, one per line, in `ids`.
fn script(job: &Job, ids: &Path, logs: &Path) -> Result<String> {
    let name = &job.experiment_name;
    let mut header = vec![
        format!("#SBATCH --job-name=eegrun-{name}"),
        format!(
            "#SBATCH --array=0-{}{}",
            job.run_ids.len() - 1,
            job.max_parallel.map(|k| format!("%{k}")).unwrap_or_default()
        ),
        format!("#SBATCH --output={}/task-%A_%a.log", directive_path(logs)?),
        format!("#SBATCH --cpus-per-task={}", job.cpus_per_task),
    ];
    header.extend(job.partition.iter().map(|p| format!("#SBATCH --partition={p}")));
    header.extend(job.gpus_per_task.iter().map(|g| format!("#SBATCH --gpus-per-task={g}")));
    header.extend(job.time.iter().map(|t| format!("#SBATCH --time={t}")));
    let mut command = vec![
        absolute(&std::env::current_exe()?)?.display().to_string(),
        "run".into(),
        absolute(&job.experiment_file)?.display().to_string(),
        "--runs-dir".into(),
        absolute(&job.runs_dir)?.display().to_string(),
    ];
    for o in &job.overrides {
        command.extend(["--set".into(), o.clone()]);
    }
    if let Some(data) = &job.data {
        command.extend(["--data".into(), data.clone()]);
    }
    if let Some(device) = job.device {
        command.extend(["--device".into(), device.to_string()]);
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

/// The script of the job that submits a search's next step once the array has ended.
fn follow_up_script(job: &Job, args: &[String], logs: &Path) -> Result<String> {
    let mut header = vec![
        format!("#SBATCH --job-name=eegrun-{}-next", job.experiment_name),
        format!("#SBATCH --output={}/next-%j.log", directive_path(logs)?),
        "#SBATCH --cpus-per-task=1".to_string(),
    ];
    header.extend(job.partition.iter().map(|p| format!("#SBATCH --partition={p}")));
    let command: Vec<String> = std::iter::once(absolute(&std::env::current_exe()?)?.display().to_string())
        .chain(args.iter().cloned())
        .map(|w| shell_quote(&w))
        .collect();
    Ok(format!(
        "#!/usr/bin/env bash\n{}\n# Written by eegrun slurm: decides the search's next step and submits it.\nset -euo pipefail\ncd {}\nexec {}\n",
        header.join("\n"),
        shell_quote(&std::env::current_dir()?.display().to_string()),
        command.join(" ")
    ))
}

/// Runs `sbatch --parsable ARGS… SCRIPT` and returns the job id.
fn sbatch(args: &[String], script: &Path) -> Result<String> {
    let output = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "sbatch not found: is Slurm installed and on PATH? (the script is at {})",
                    script.display()
                )
            } else {
                anyhow::anyhow!("cannot run sbatch: {e}")
            }
        })?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).trim().replace('\n', " ");
        bail!("sbatch rejected {}: {message}", script.display());
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string())
}

/// A new folder `<time>[-K]` under `jobs` that no other submission holds (`create_dir` fails
/// when the folder exists, so two submissions in the same second get two folders).
fn claim_job_dir(jobs: &Path) -> Result<PathBuf> {
    crate::atomic_write::own_folder(jobs)?;
    std::fs::create_dir_all(jobs).with_context(|| format!("{}: cannot create", jobs.display()))?;
    let time = now_unix();
    for k in 0..1000 {
        let dir = jobs.join(if k == 0 {
            time.to_string()
        } else {
            format!("{time}-{k}")
        });
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("{}: cannot create", dir.display())),
        }
    }
    bail!("{}: no free job folder for time {time}", jobs.display())
}

/// Writes the job's files under `runs/<experiment>/slurm/<time>[-K]/` and submits them
/// (with `dry_run`, prints the script instead).
pub fn submit(job: &Job, dry_run: bool) -> Result<()> {
    let jobs = absolute(&job.runs_dir.join(&job.experiment_name).join("slurm"))?;
    directive_path(&jobs)?;
    let dir = claim_job_dir(&jobs)?;
    let ids = dir.join("run_ids.txt");
    write_atomic(&ids, (job.run_ids.join("\n") + "\n").as_bytes())?;
    let path = dir.join("job.sbatch");
    write_atomic(&path, script(job, &ids, &dir)?.as_bytes())?;
    let pending = job.run_ids.len();
    println!(
        "{pending} of {} runs to submit; script {}",
        job.total_runs,
        path.display()
    );
    let next = match &job.follow_up {
        Some(args) => {
            let next = dir.join("next.sbatch");
            write_atomic(&next, follow_up_script(job, args, &dir)?.as_bytes())?;
            Some(next)
        }
        None => None,
    };
    if dry_run {
        print!("{}", std::fs::read_to_string(&path)?);
        if let Some(next) = &next {
            println!(
                "then, when the array has ended (--dependency=afterany), {}:",
                next.display()
            );
            print!("{}", std::fs::read_to_string(next)?);
        }
        return Ok(());
    }
    let job_id = sbatch(&[], &path)?;
    write_atomic(&dir.join("job_id"), format!("{job_id}\n").as_bytes())?;
    println!(
        "submitted job {job_id}: {pending} array tasks; task logs in {}",
        dir.display()
    );
    if let Some(next) = &next {
        let next_id = sbatch(&[format!("--dependency=afterany:{job_id}")], next)?;
        write_atomic(&dir.join("next_job_id"), format!("{next_id}\n").as_bytes())?;
        println!("submitted job {next_id}: when {job_id} has ended it decides the next step and submits it (log next-{next_id}.log)");
    }
    Ok(())
}
