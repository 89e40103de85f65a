//! Hostile and careless inputs through the binary: data files, experiment values, `--set`,
//! Slurm arguments and regression baselines. Each must end as a one-line error naming what
//! is wrong (exit 1; clap's own usage errors exit 2), never a panic or an abort, and never
//! a change to finished results.

mod common;

use common::{eegrun, Scratch};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn workspace(name: &str) -> Scratch {
    let dir = Scratch::new(&format!("hostile-{name}"));
    std::fs::write(
        dir.join("x.toml"),
        "name = \"x\"\ndata = \"synthetic:1:8\"\n[defaults]\nepochs = 1\nbatch_size = 4\n",
    )
    .unwrap();
    dir
}

/// Asserts a one-line `error:` on stderr, exit 1, containing every needle (bad values of
/// command-line options included: only unknown options get clap's usage text, exit 2).
fn assert_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "no error line: {err}");
    for needle in needles {
        assert!(last.contains(needle), "expected '{needle}' in: {last}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

// ---- npy / npz files -------------------------------------------------------------------

fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (11 + header.len()) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    out
}

fn le<T: Copy, const N: usize>(values: &[T], to: fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|v| to(*v)).collect()
}

/// An npz of the given entries, stored or deflated.
fn npz(path: &Path, entries: &[(&str, Vec<u8>)], deflate: bool) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    for (name, bytes) in entries {
        let options = zip::write::FileOptions::default().compression_method(method);
        zip.start_file(format!("{name}.npy"), options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// A valid lab-layout pair of `n` trials: signal f64 (n, 750, 2), labels f64 1/2.
fn signal_f64(n: usize) -> Vec<u8> {
    let values: Vec<f64> = (0..n * 1500).map(|i| (i % 17) as f64 * 0.1).collect();
    npy("<f8", &format!("({n}, 750, 2)"), &le(&values, f64::to_le_bytes))
}

fn labels_f64(n: usize) -> Vec<u8> {
    let values: Vec<f64> = (0..n).map(|i| 1.0 + (i % 2) as f64).collect();
    npy("<f8", &format!("({n},)"), &le(&values, f64::to_le_bytes))
}

/// Writes train.npz and test.npz into `dir` (created) with the same entries.
fn pair(dir: &Path, entries: &[(&str, Vec<u8>)], deflate: bool) {
    std::fs::create_dir_all(dir).unwrap();
    for split in ["train", "test"] {
        npz(&dir.join(format!("{split}.npz")), entries, deflate);
    }
}

/// Sets the uncompressed size that the central directory claims for every entry.
fn claim_uncompressed_size(path: &Path, size: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    let signature = [0x50, 0x4b, 0x01, 0x02];
    let offsets: Vec<usize> = (0..bytes.len() - 4).filter(|&i| bytes[i..i + 4] == signature).collect();
    assert!(!offsets.is_empty());
    for at in offsets {
        bytes[at + 24..at + 28].copy_from_slice(&size.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// Marks every entry of the zip at `path` as compressed with `method` (12 bzip2, 14 LZMA).
fn claim_compression(path: &Path, method: u16) {
    let mut bytes = std::fs::read(path).unwrap();
    for (signature, field) in [([0x50, 0x4b, 0x03, 0x04], 8), ([0x50, 0x4b, 0x01, 0x02], 10)] {
        let offsets: Vec<usize> = (0..bytes.len() - 4).filter(|&i| bytes[i..i + 4] == signature).collect();
        assert!(!offsets.is_empty());
        for at in offsets {
            bytes[at + field..at + field + 2].copy_from_slice(&method.to_le_bytes());
        }
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn hostile_data_files_are_one_line_errors() {
    let dir = workspace("data");
    let dry = |data: &Path| eegrun(&dir, &["x.toml", "--dry-run", "--data", data.to_str().unwrap()]);
    let case = |name: &str, entries: &[(&str, Vec<u8>)]| {
        let d = dir.join(name);
        pair(&d, entries, false);
        d
    };

    let d = case(
        "shape-paren",
        &[("signal", npy("<f8", ")", &[])), ("label", labels_f64(2))],
    );
    assert_error(&dry(&d), &["train.npz: array 'signal'", "bad shape"]);

    let d = case(
        "shape-overflow",
        &[
            ("signal", npy("<f8", "(2305843009213693952, 750, 2)", &[0; 64])),
            ("label", labels_f64(2)),
        ],
    );
    assert_error(&dry(&d), &["train.npz: array 'signal'", "overflows"]);

    let d = case(
        "complex",
        &[
            ("signal", npy("<c8", "(1, 750, 2)", &[0; 12000])),
            ("label", labels_f64(1)),
        ],
    );
    assert_error(&dry(&d), &["unsupported dtype '<c8'", "float16/32/64"]);

    let mut values = vec![0.5f64; 1500];
    values[11] = f64::INFINITY;
    let inf = npy("<f8", "(1, 750, 2)", &le(&values, f64::to_le_bytes));
    let d = case("inf", &[("signal", inf), ("label", labels_f64(1))]);
    assert_error(&dry(&d), &["train.npz: signal[0, 5, 1] is inf", "up to ±1e15"]);

    values[11] = 1e300;
    let huge = npy("<f8", "(1, 750, 2)", &le(&values, f64::to_le_bytes));
    let d = case("beyond-f32", &[("signal", huge), ("label", labels_f64(1))]);
    assert_error(&dry(&d), &["signal[0, 5, 1] is 1e300", "32-bit"]);

    // Finite in f32 but large enough to overflow the first layer (one 3e38 among µV values).
    values[11] = 3e38;
    let overflowing = npy("<f8", "(1, 750, 2)", &le(&values, f64::to_le_bytes));
    let d = case(
        "overflows-first-layer",
        &[("signal", overflowing), ("label", labels_f64(1))],
    );
    assert_error(&dry(&d), &["signal[0, 5, 1] is 3e38", "batch statistics overflow"]);

    // A few hundred kB deflated that would widen to more than 512 MiB of f64: refused after
    // reading the 64 MiB of bytes, never allocated (2^28 such values aborted under 2 GB).
    let too_many = (1usize << 26) + 750 * 2;
    let zeros = npy(
        "|u1",
        &format!("({}, 750, 2)", too_many / 1500),
        &vec![0u8; too_many / 1500 * 1500],
    );
    let d = dir.join("many-values");
    pair(&d, &[("signal", zeros), ("label", labels_f64(2))], true);
    assert!(std::fs::metadata(d.join("train.npz")).unwrap().len() < 1 << 20);
    assert_error(
        &dry(&d),
        &["train.npz: array 'signal'", "more than eegrun reads (67108864)"],
    );

    for (name, method) in [("bzip2", 12), ("lzma", 14)] {
        let d = dir.join(name);
        pair(&d, &[("signal", signal_f64(2)), ("label", labels_f64(2))], false);
        claim_compression(&d.join("train.npz"), method);
        assert_error(
            &dry(&d),
            &[
                "train.npz: array 'signal' is stored in a way eegrun cannot read",
                "numpy.savez",
            ],
        );
    }

    for (name, deflate) in [("claims-stored", false), ("claims-deflated", true)] {
        let d = dir.join(name);
        pair(&d, &[("signal", signal_f64(2)), ("label", labels_f64(2))], deflate);
        claim_uncompressed_size(&d.join("train.npz"), 3 << 30);
        assert_error(&dry(&d), &["train.npz: array", "claims 3221225472 bytes", "damaged"]);
    }

    // Every numeric dtype that numpy writes is read: float16 signal, int16 / uint16 labels,
    // big-endian float32.
    let half: Vec<u16> = vec![0x3c00; 3000]; // 1.0
    let d = case(
        "float16-int16",
        &[
            ("signal", npy("<f2", "(2, 750, 2)", &le(&half, u16::to_le_bytes))),
            ("label", npy("<i2", "(2,)", &le(&[1i16, 2], i16::to_le_bytes))),
        ],
    );
    assert!(dry(&d).status.success(), "{}", stderr(&dry(&d)));
    let d = case(
        "big-endian",
        &[
            (
                "signal",
                npy(">f4", "(2, 750, 2)", &le(&vec![0.25f32; 3000], f32::to_be_bytes)),
            ),
            ("label", npy("<u2", "(2,)", &le(&[2u16, 1], u16::to_le_bytes))),
        ],
    );
    assert!(dry(&d).status.success(), "{}", stderr(&dry(&d)));

    // `auto` with three of the lab's four files names the missing one.
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for name in ["S4b_train.npz", "X11b_train.npz", "S4b_test.npz"] {
        npz(
            &data.join(name),
            &[("signal", signal_f64(2)), ("label", labels_f64(2))],
            false,
        );
    }
    assert_error(
        &eegrun(&dir, &["x.toml", "--dry-run", "--data", "auto"]),
        &["incomplete lab data: missing X11b_test.npz"],
    );

    // A folder whose name starts with "synthetic" is that folder.
    let d = case(
        "synthetic-folder",
        &[("signal", signal_f64(2)), ("label", labels_f64(2))],
    );
    let out = eegrun(&dir, &["x.toml", "--dry-run", "--data", "synthetic-folder"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("synthetic-folder (train.npz"));
    assert!(d.is_dir());

    for huge in ["synthetic:0:100000000000", "synthetic:0:10000000000000000"] {
        assert_error(
            &eegrun(&dir, &["x.toml", "--dry-run", "--data", huge]),
            &["TRIALS must be between 2 and 100000"],
        );
    }
}

// ---- experiment values -------------------------------------------------------------------

#[test]
fn hostile_experiment_values_are_refused_before_anything_is_allocated() {
    let dir = workspace("values");
    let axis = |f: &dyn Fn(usize) -> String| (0..1000).map(f).collect::<Vec<_>>().join(", ");
    let body = format!(
        "name = \"big\"\ndata = \"synthetic:1:8\"\n[grid]\nseed = [{}]\nlr = [{}]\ndropout = [{}]\n",
        axis(&|i| i.to_string()),
        axis(&|i| format!("{:e}", (i + 1) as f64 * 1e-6)),
        axis(&|i| format!("{}", i as f64 / 1000.0)),
    );
    std::fs::write(dir.join("big.toml"), body).unwrap();
    let out = eegrun(&dir, &["big.toml", "--dry-run"]);
    assert_error(
        &out,
        &[
            "expands to 1000000000 runs",
            "dropout 1000 × lr 1000 × seed 1000",
            "--max-runs",
        ],
    );
    // The limit can be raised, and lowered.
    assert_error(
        &eegrun(
            &dir,
            &["x.toml", "--dry-run", "--set", "seed=[0,1,2]", "--max-runs", "2"],
        ),
        &["expands to 3 runs", "limit of 2"],
    );

    for (set, needle) in [
        ("weight_decay=inf", "weight_decay must be ≥ 0 and finite, got inf"),
        ("eps=1e39", "eps must be > 0 and finite, got inf"),
        ("lr=nan", "lr must be > 0 and finite, got NaN"),
        ("epochs=-1", "--set epochs"),
    ] {
        assert_error(&eegrun(&dir, &["x.toml", "--dry-run", "--set", set]), &[needle]);
    }
    let deep = format!("seed={}0{}", "[".repeat(30_000), "]".repeat(30_000));
    assert_error(
        &eegrun(&dir, &["x.toml", "--dry-run", "--set", &deep]),
        &["--set seed: value nested more than 16 levels deep"],
    );
    let file = format!(
        "name = \"x\"\n[defaults]\nseed = {}0{}\n",
        "[".repeat(30_000),
        "]".repeat(30_000)
    );
    std::fs::write(dir.join("deep.toml"), file).unwrap();
    assert_error(
        &eegrun(&dir, &["deep.toml", "--dry-run"]),
        &["deep.toml:1:1", "nested more than 16"],
    );

    assert_error(
        &eegrun(&dir, &["x.toml", "--max-runs", "0"]),
        &["--max-runs", "expected a whole number ≥ 1"],
    );
    for flag in ["--threads", "--jobs"] {
        for count in ["0", "1025", "18446744073709551615"] {
            assert_error(
                &eegrun(&dir, &["x.toml", flag, count]),
                &[flag, "expected a whole number from 1 to 1024"],
            );
        }
    }
    assert!(!dir.join("runs").exists(), "nothing may be written");
}

// ---- the regression gate -----------------------------------------------------------------

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runs")
}

#[test]
fn the_gate_cannot_be_switched_off() {
    let dir = workspace("gate");
    let runs = fixtures();
    let runs = runs.to_str().unwrap();
    let baseline = dir.join("b.json");
    let b = baseline.to_str().unwrap();
    std::fs::create_dir_all(dir.join("empty")).unwrap();

    // An update that records nothing fails and writes nothing.
    assert_error(
        &eegrun(&dir, &["check", "empty", "--baseline", b, "--update"]),
        &["no finished runs", "record"],
    );
    assert_error(
        &eegrun(
            &dir,
            &["check", runs, "--baseline", b, "--update", "--filter", "model=eegnett"],
        ),
        &["no finished runs match --filter"],
    );
    assert!(!baseline.exists());

    assert!(eegrun(&dir, &["check", runs, "--baseline", b, "--update"])
        .status
        .success());
    // A check that compares nothing fails.
    assert_error(
        &eegrun(&dir, &["check", "empty", "--baseline", b]),
        &["nothing to check"],
    );
    for tolerance in ["nan", "inf", "-1", "-inf", "100", "1e300"] {
        assert_error(
            &eegrun(
                &dir,
                &["check", runs, "--baseline", b, &format!("--tolerance={tolerance}")],
            ),
            &["tolerance must be a number of percentage points at least 0 and below 100"],
        );
    }

    let recorded: serde_json::Value = serde_json::from_slice(&std::fs::read(&baseline).unwrap()).unwrap();
    let write = |value: &serde_json::Value| std::fs::write(&baseline, value.to_string()).unwrap();
    let mut empty = recorded.clone();
    empty["entries"] = serde_json::json!([]);
    write(&empty);
    assert_error(
        &eegrun(&dir, &["check", runs, "--baseline", b]),
        &["records no configurations"],
    );
    let mut bad = recorded.clone();
    bad["tolerance"] = serde_json::json!(-3.0);
    write(&bad);
    assert_error(
        &eegrun(&dir, &["check", runs, "--baseline", b]),
        &["b.json", "tolerance"],
    );
    let mut bad = recorded.clone();
    bad["entries"][0]["best_test_acc"] = serde_json::json!(1e9);
    write(&bad);
    assert_error(
        &eegrun(&dir, &["check", runs, "--baseline", b]),
        &["expected a percentage"],
    );
    std::fs::write(
        &baseline,
        r#"{"tolerance": 3, "entries": [{"key": "k", "runs": 1, "best_test_acc": null, "final_test_acc": 1}]}"#,
    )
    .unwrap();
    assert_error(
        &eegrun(&dir, &["check", runs, "--baseline", b]),
        &["not a valid baseline file"],
    );

    // A configuration in the runs but not in the baseline: reported; fails under --strict.
    let mut fewer = recorded.clone();
    fewer["entries"].as_array_mut().unwrap().remove(0);
    write(&fewer);
    let out = eegrun(&dir, &["check", runs, "--baseline", b]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: 1 configuration is in"),
        "{}",
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("new (not in baseline)"));
    assert_error(
        &eegrun(&dir, &["check", runs, "--baseline", b, "--strict"]),
        &["1 not in the baseline"],
    );
}

// ---- Slurm ------------------------------------------------------------------------------

#[test]
fn slurm_arguments_cannot_reach_the_shell() {
    let dir = workspace("slurm");
    let slurm = |extra: &[&str]| {
        let mut args = vec!["slurm", "x.toml", "--dry-run"];
        args.extend_from_slice(extra);
        eegrun(&dir, &args)
    };
    for (flag, value) in [
        ("--partition", "gpu\ntouch pwned"),
        ("--partition", "gpu;touch pwned"),
        ("--partition", ""),
        ("--time", "1:00:00\ntouch pwned"),
        ("--time", "1:2:3:4"),
        ("--time", "$(touch pwned)"),
        ("--max-parallel", "0"),
        ("--cpus-per-task", "0"),
        ("--gpus-per-task", "0"),
    ] {
        assert_error(&slurm(&[flag, value]), &[flag]);
        assert!(!dir.join("runs").exists(), "{flag} {value:?} wrote a job");
    }
    for time in ["90", "30:00", "2:00:00", "1-12", "1-12:30", "1-0:0:0", "UNLIMITED"] {
        let out = slurm(&["--time", time, "--partition", "gpu,debug"]);
        assert!(out.status.success(), "{time}: {}", stderr(&out));
    }
    assert_error(
        &slurm(&["--runs-dir", "runs with space"]),
        &["runs with space", "an #SBATCH line cannot hold"],
    );

    // Three submissions in one second: three job folders, each script reading its own list.
    for _ in 0..3 {
        assert!(slurm(&[]).status.success());
    }
    let jobs: Vec<PathBuf> = std::fs::read_dir(dir.join("runs/x/slurm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(jobs.len(), 7 + 3, "one folder per submission: {jobs:?}");
    for job in &jobs {
        let script = std::fs::read_to_string(job.join("job.sbatch")).unwrap();
        assert!(script.contains(&format!("{}/run_ids.txt", job.display())), "{script}");
    }
}

#[test]
fn a_job_script_with_hostile_paths_runs_only_eegrun() {
    let dir = workspace("slurm-script");
    // Data and runs folders whose names would run commands if they reached the shell raw.
    let data = dir.join("d $(touch pwned1); `touch pwned2`");
    pair(&data, &[("signal", signal_f64(4)), ("label", labels_f64(4))], false);
    let runs = "r$(touch${IFS}pwned3)";
    let out = eegrun(
        &dir,
        &[
            "slurm",
            "x.toml",
            "--dry-run",
            "--data",
            data.to_str().unwrap(),
            "--runs-dir",
            runs,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let script = std::fs::read_dir(dir.join(runs).join("x/slurm"))
        .unwrap()
        .map(|e| e.unwrap().path().join("job.sbatch"))
        .next()
        .unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(syntax.status.success(), "{}", stderr(&syntax));
    let task = Command::new("bash")
        .arg(&script)
        .current_dir(&dir)
        .env("SLURM_ARRAY_TASK_ID", "0")
        .env("SLURM_CPUS_PER_TASK", "1")
        .output()
        .unwrap();
    assert!(task.status.success(), "{}", stderr(&task));
    for n in 1..=3 {
        assert!(!dir.join(format!("pwned{n}")).exists(), "pwned{n} was created");
    }
    let listing = eegrun(
        &dir,
        &[
            "x.toml",
            "--dry-run",
            "--data",
            data.to_str().unwrap(),
            "--runs-dir",
            runs,
        ],
    );
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains(" done "),
        "the task trained the run"
    );
}

/// Every string a hostile or careless collaborator can put in a record.
const HOSTILE: &str = "<form action=//evil>&\"'\u{202e}evil\u{1b}[31m\u{7}\u{0}</form>";

#[test]
fn hostile_records_render_as_text_and_the_page_stays_well_formed() {
    let dir = workspace("hostile-records");
    std::fs::write(
        dir.join("x.toml"),
        "name = \"h\"\ndata = \"synthetic:0:24\"\n[defaults]\nepochs = 1\nbatch_size = 8\n[grid]\nactivation = [\"relu\", \"elu\"]\nseed = [0, 1]\n",
    )
    .unwrap();
    let out = eegrun(&dir, &["x.toml", "--jobs", "1", "--threads", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Every run's experiment name, and a rung table planted as a search record.
    for run in common::run_folders(&dir.join("runs/h")) {
        let path = run.join("config.json");
        let mut config: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        config["experiment"] = HOSTILE.into();
        config["data"] = HOSTILE.into();
        std::fs::write(&path, serde_json::to_vec(&config).unwrap()).unwrap();
    }
    let page = dir.join("report.html");
    let out = eegrun(&dir, &["report", "runs", "-o", page.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &stderr(&out);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "raw controls reached the terminal: {text:?}"
    );
    assert!(out.status.success(), "{text}");
    {
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(
            !html.contains('\u{202e}') && !html.contains('\u{1b}') && !html.contains('\u{0}'),
            "raw controls in the page"
        );
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        let doc = roxmltree::Document::parse_with_options(&html, options).expect("the page is well-formed XML");
        assert!(
            doc.descendants().all(|n| !n.has_tag_name("form")),
            "a <form> from a record became an element"
        );
    }
    // The same records as LaTeX tables: pdflatex sets them (its specials escaped, controls
    // left out, the rest as text).
    let out = eegrun(&dir, &["summarize", "runs", "--no-plots", "--format", "latex"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let latex = String::from_utf8_lossy(&out.stdout);
    assert!(
        latex.contains("\\textless{}form action=//evil\\textgreater{}\\&"),
        "{latex}"
    );
    common::assert_compiles_as_latex(&dir, "hostile", &latex);
}

#[test]
fn a_search_record_rendered_from_hostile_fields_stays_text() {
    let dir = workspace("hostile-search");
    std::fs::write(
        dir.join("x.toml"),
        "name = \"s\"\ndata = \"synthetic:0:24\"\n[defaults]\nepochs = 1\nbatch_size = 8\n[grid]\nseed = [0]\n",
    )
    .unwrap();
    assert!(eegrun(&dir, &["x.toml", "--jobs", "1", "--threads", "1"])
        .status
        .success());
    // A search record planted where no study.json claims the folder.
    std::fs::remove_file(dir.join("runs/s/study.json")).unwrap();
    // Every string field hostile, every number well-typed: rendered, as text.
    let record = serde_json::json!({
        "experiment": HOSTILE, "metric": HOSTILE, "rungs": [1], "rounds": 1, "complete": true,
        "epochs_trained": 1, "epochs_if_all_trained_fully": 1, "chosen": HOSTILE,
        "decisions": [{"round": 1, "rung": 1, "epoch": 1, "scores": [[HOSTILE, 0.5]], "promoted": [HOSTILE]}]
    });
    std::fs::write(dir.join("runs/s/search.json"), serde_json::to_vec(&record).unwrap()).unwrap();
    let page = dir.join("report.html");
    let out = eegrun(&dir, &["report", "runs", "-o", page.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("Search: &lt;form"),
        "the search section is rendered, escaped"
    );
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&html, options).expect("the page is well-formed XML");
    assert!(doc
        .descendants()
        .all(|n| !n.has_tag_name("form") && !n.has_tag_name("b")));
    // Markup where numbers belong (a round, a rung, an epoch): a damaged record, said so and
    // left out.
    let damaged = serde_json::json!({
        "experiment": "s", "metric": "val_acc", "rounds": 1, "complete": true, "chosen": null,
        "epochs_trained": 1, "epochs_if_all_trained_fully": 1,
        "decisions": [{"round": HOSTILE, "rung": "<form action=x>", "epoch": {"<b>": 1}, "scores": [], "promoted": []}]
    });
    std::fs::write(dir.join("runs/s/search.json"), serde_json::to_vec(&damaged).unwrap()).unwrap();
    let out = eegrun(&dir, &["report", "runs", "-o", page.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("damaged search record, ignored"),
        "{}",
        stderr(&out)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    let doc = roxmltree::Document::parse_with_options(&html, options).expect("the page is well-formed XML");
    assert!(doc
        .descendants()
        .all(|n| !n.has_tag_name("form") && !n.has_tag_name("b")));
    let policy = doc
        .descendants()
        .find(|n| n.attribute("http-equiv") == Some("Content-Security-Policy"))
        .and_then(|n| n.attribute("content"))
        .unwrap();
    assert!(policy.contains("form-action 'none'"), "{policy}");
}

#[test]
fn fifos_and_endless_files_are_refused_not_waited_on() {
    let dir = workspace("fifo");
    std::fs::write(
        dir.join("x.toml"),
        "name = \"f\"\ndata = \"synthetic:0:24\"\n[defaults]\nepochs = 1\nbatch_size = 8\n[grid]\nseed = [0, 1]\n",
    )
    .unwrap();
    assert!(eegrun(&dir, &["x.toml", "--jobs", "1", "--threads", "1"])
        .status
        .success());
    let fifo = |path: &Path| {
        let _ = std::fs::remove_file(path);
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    // study.json and search.json as FIFOs: summarize warns and goes on.
    fifo(&dir.join("runs/f/study.json"));
    fifo(&dir.join("runs/f/search.json"));
    // eegrun's own output names as FIFOs: replaced, never written into and waited on.
    fifo(&dir.join("runs/findings.json"));
    fifo(&dir.join("runs/summary.parquet"));
    let out = eegrun(&dir, &["summarize", "runs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a FIFO (named pipe), not a regular file"),
        "{}",
        stderr(&out)
    );
    assert!(std::fs::symlink_metadata(dir.join("runs/findings.json"))
        .unwrap()
        .is_file());
    // A baseline that is a link to /dev/zero: one line, no gigabyte read.
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.json")).unwrap();
    let out = eegrun(&dir, &["check", "runs", "--baseline", "zero.json"]);
    assert_error(&out, &["zero.json", "is a device"]);
    // A run's metrics.csv as a FIFO: the run is unreadable, said so.
    let run = &common::run_folders(&dir.join("runs/f"))[0];
    fifo(&run.join("metrics.csv"));
    let out = eegrun(&dir, &["x.toml", "--dry-run"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("is a FIFO"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn repair_rebuilds_a_status_that_disagrees_with_the_config() {
    let dir = workspace("repair");
    std::fs::write(
        dir.join("x.toml"),
        "name = \"r\"\ndata = \"synthetic:0:24\"\n[defaults]\nepochs = 2\nbatch_size = 8\n[grid]\nseed = [0]\n",
    )
    .unwrap();
    assert!(eegrun(&dir, &["x.toml", "--jobs", "1", "--threads", "1"])
        .status
        .success());
    let run = &common::run_folders(&dir.join("runs/r"))[0];
    let path = run.join("status.json");
    let mut status: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    status["epochs"] = 3.into();
    std::fs::write(&path, serde_json::to_vec(&status).unwrap()).unwrap();
    // Repair ends the run as its own study kind can have it: done, at its config's epochs.
    let out = eegrun(&dir, &["x.toml", "--retry-failed", "--jobs", "1", "--threads", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        (status["state"].as_str(), status["epochs"].as_u64()),
        (Some("done"), Some(2)),
        "{status}"
    );
    // A plain rerun has nothing to do and blames nobody; summarize counts the run.
    let out = eegrun(&dir, &["x.toml", "--jobs", "1", "--threads", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = eegrun(&dir, &["summarize", "runs"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 done"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_seed_override_on_a_study_that_chooses_its_seeds_says_why() {
    let dir = workspace("rounds-seed");
    std::fs::write(
        dir.join("x.toml"),
        "name = \"r\"\ndata = \"synthetic:0:24\"\n[defaults]\nepochs = 1\nbatch_size = 8\n[seeds]\nuntil = \"decided\"\nstart = 2\nstep = 1\nmax = 3\n",
    )
    .unwrap();
    for set in ["seed=7", "seed=[0,1]"] {
        let out = eegrun(&dir, &["x.toml", "--set", set, "--dry-run"]);
        assert_error(&out, &["--set seed", "chooses its seeds in rounds"]);
    }
    assert!(!dir.join("runs").exists());
}
