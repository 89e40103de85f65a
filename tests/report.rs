//! `summarize` and `check` on committed fixture run folders (three finished EEGNet runs,
//! a partial and a failed DeepConvNet run, a dropout sweep, and two broken folders), and
//! the findings of tiny activation and dropout studies trained for the test.

mod common;

use common::{assert_compiles_as_latex, fixtures, golden, Scratch};
use std::path::Path;
use std::process::{Command, Output};

fn eegrun(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .args(args)
        .output()
        .expect("run eegrun")
}

/// Runs eegrun in `dir`, asserting that it succeeds; its stdout.
fn succeed_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn out_dir(name: &str) -> Scratch {
    let dir = Scratch::new(&format!("report-{name}"));
    dir
}

fn summarize(name: &str, extra: &[&str]) -> (String, String, Scratch) {
    let out = out_dir(name);
    let runs = fixtures();
    let mut args = vec!["summarize", runs.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let result = eegrun(&args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&result.stdout).into_owned(),
        String::from_utf8_lossy(&result.stderr).into_owned(),
    );
    assert!(result.status.success(), "{stdout}{stderr}");
    (stdout, stderr, out)
}

#[test]
fn the_report_table_groups_seeds_and_skips_broken_folders() {
    let (stdout, stderr, out) = summarize("table", &["--no-plots"]);
    golden("summary_table.txt", &stdout);
    assert!(
        stderr.contains("skipped") && stderr.contains("broken-config"),
        "{stderr}"
    );
    assert!(stderr.contains("only-status"), "{stderr}");
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    golden("summary_runs.csv", &csv);
    let parquet = std::fs::read(out.join("summary.parquet")).unwrap();
    assert!(parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"));
}

#[test]
fn formats_group_by_and_filters() {
    let (markdown, _, _) = summarize(
        "md",
        &["--no-plots", "--format", "markdown", "--filter", "experiment=act"],
    );
    golden("summary_act.md", &markdown);
    let (csv, _, _) = summarize(
        "csv",
        &[
            "--no-plots",
            "--format",
            "csv",
            "--group-by",
            "model",
            "--filter",
            "status=done",
        ],
    );
    golden("summary_by_model.csv", &csv);
    let (json, _, _) = summarize(
        "json",
        &[
            "--no-plots",
            "--format",
            "json",
            "--filter",
            "dropout>=0.5",
            "--filter",
            "experiment=drop",
        ],
    );
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{json}");

    let bad = eegrun(&[
        "summarize",
        fixtures().to_str().unwrap(),
        "--filter",
        "colour=red",
        "--no-plots",
        "--out",
        out_dir("bad").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no column 'colour'"));
}

#[test]
fn every_plot_is_written_and_decodable() {
    let (_, stderr, out) = summarize("plots", &[]);
    let plots = out.join("plots");
    let mut names: Vec<String> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "act-deepconvnet-accuracy.png",
            "act-deepconvnet-accuracy.svg",
            "act-eegnet-accuracy.png",
            "act-eegnet-accuracy.svg",
            "drop-dropout.png",
            "drop-dropout.svg",
            "drop-eegnet-accuracy.png",
            "drop-eegnet-accuracy.svg",
        ],
        "{stderr}"
    );
    for name in &names {
        let path = plots.join(name);
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 1000, "{name} is nearly empty");
        if name.ends_with(".png") {
            let image = image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!((image.width(), image.height()), (1000, 620));
            let rgb = image.to_rgb8();
            let colours: std::collections::HashSet<[u8; 3]> = rgb.pixels().map(|p| p.0).collect();
            assert!(
                colours.len() > 20,
                "{name}: only {} colours (no text or lines?)",
                colours.len()
            );
        } else {
            let text = String::from_utf8(bytes).unwrap();
            assert!(
                text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
                "{name}"
            );
            assert!(text.contains("accuracy (%)"), "{name}: axis label missing");
        }
    }
}

#[test]
fn check_flags_regressions_and_passes_otherwise() {
    let dir = out_dir("check");
    let baseline = dir.join("baseline.json");
    let runs = fixtures();
    let (runs, baseline_arg) = (runs.to_str().unwrap(), baseline.to_str().unwrap());
    let update = eegrun(&[
        "check",
        runs,
        "--baseline",
        baseline_arg,
        "--update",
        "--tolerance",
        "2",
    ]);
    assert!(update.status.success(), "{}", String::from_utf8_lossy(&update.stderr));
    let pass = eegrun(&["check", runs, "--baseline", baseline_arg]);
    let stdout = String::from_utf8_lossy(&pass.stdout);
    assert!(pass.status.success(), "{stdout}");
    assert!(stdout.contains("within 2 points"), "{stdout}");

    // Raise one recorded accuracy by 5 points (its mean and every seed's value): the
    // current runs now fall short by 5 > 2.
    let mut recorded: serde_json::Value = serde_json::from_slice(&std::fs::read(&baseline).unwrap()).unwrap();
    let entry = &mut recorded["entries"][0];
    entry["best_test_acc"] = serde_json::json!(entry["best_test_acc"].as_f64().unwrap() + 5.0);
    for seed in entry["per_seed"].as_array_mut().unwrap() {
        seed["best_test_acc"] = serde_json::json!(seed["best_test_acc"].as_f64().unwrap() + 5.0);
    }
    let key = entry["key"].as_str().unwrap().to_string();
    std::fs::write(&baseline, serde_json::to_vec(&recorded).unwrap()).unwrap();
    let fail = eegrun(&["check", runs, "--baseline", baseline_arg]);
    let stdout = String::from_utf8_lossy(&fail.stdout);
    assert_eq!(fail.status.code(), Some(1), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("REGRESSED"))
        .expect("a regressed line");
    assert!(line.contains(&key) && line.contains("-5.00"), "{line}");
    assert_eq!(stdout.matches("REGRESSED").count(), 1, "{stdout}");
    // A looser tolerance lets it pass.
    assert!(eegrun(&["check", runs, "--baseline", baseline_arg, "--tolerance", "6"])
        .status
        .success());
}

/// Trains tiny studies (7 seeds, 1 epoch, 40 trials) and returns their folder.
fn tiny_studies() -> Scratch {
    let dir = out_dir("studies");
    let seeds = "seed = [0, 1, 2, 3, 4, 5, 6]";
    for (name, axis) in [
        ("act", r#"activation = ["relu", "leaky_relu", "elu"]"#),
        ("drop", "dropout = [0.0, 0.5, 0.9]"),
    ] {
        let body = format!(
            "name = \"{name}\"\ndata = \"synthetic:1:40\"\n[defaults]\nepochs = 1\nbatch_size = 20\n[grid]\nmodel = [\"eegnet\"]\n{axis}\n{seeds}\n"
        );
        std::fs::write(dir.join(format!("{name}.toml")), body).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
            .current_dir(&dir)
            .args([&format!("{name}.toml"), "--jobs", "2", "--threads", "1"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    dir
}

#[test]
fn findings_state_tables_comparisons_and_verdicts() {
    let dir = tiny_studies();
    let summarize = || {
        let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
            .current_dir(&dir)
            .args(["summarize", "runs"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let stdout = summarize();
    let findings = std::fs::read_to_string(dir.join("runs/findings.txt")).unwrap();
    assert!(
        stdout.contains(findings.trim_end()),
        "findings.txt is what summarize prints"
    );
    // The report's layout: one column per model, rows in the report's order, n per cell.
    for table in ["act: highest test accuracy (%)", "act: final test accuracy (%)"] {
        let at = stdout
            .find(table)
            .unwrap_or_else(|| panic!("{table} missing:\n{stdout}"));
        let rows: Vec<&str> = stdout[at..].lines().skip(1).take(4).collect();
        assert!(
            rows[0].starts_with("activation") && rows[0].contains("eegnet"),
            "{rows:?}"
        );
        for (row, name) in rows[1..].iter().zip(["relu", "leaky_relu", "elu"]) {
            assert!(row.starts_with(name) && row.contains("(n=7)"), "{rows:?}");
        }
    }
    assert!(stdout.contains("drop: accuracy against dropout (%)"), "{stdout}");
    let header = stdout
        .lines()
        .find(|l| l.starts_with("dropout  "))
        .expect("dropout table header");
    assert!(
        header.contains("eegnet final train") && header.contains("eegnet gap"),
        "{header}"
    );
    // Every pair compared, with an interval and a verdict that names the better one.
    let pairs: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains("95% CI") && !l.contains("report claims"))
        .collect();
    assert_eq!(pairs.len(), 3 + 3, "{stdout}");
    for line in &pairs {
        assert!(
            line.contains(" > ") || line.contains(" ≈ ") || line.contains(": undecided"),
            "{line}"
        );
        assert!(!line.contains("distinguishable") && !line.contains("0.000"), "{line}");
    }
    // The report's claims, each with a verdict.
    let verdicts = ["supported", "contradicted", "undecided"];
    for claim in [
        "report claims eegnet relu > leaky_relu",
        "report claims eegnet leaky_relu > elu",
        "report claims eegnet relu > elu",
        "report claims under-fitting at high dropout",
        "report claims over-fitting at low dropout",
        "report claims dropout must be chosen",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(claim))
            .unwrap_or_else(|| panic!("{claim} missing:\n{stdout}"));
        assert!(
            claim.ends_with("chosen") || verdicts.iter().any(|v| line.contains(v)),
            "{line}"
        );
    }
    let overfitting = stdout
        .lines()
        .find(|l| l.contains("report claims over-fitting"))
        .unwrap();
    assert!(
        overfitting.contains("95% CI") || overfitting.contains("lowest rate is also the best"),
        "{overfitting}"
    );
    // Findings as data, beside the text.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("runs/findings.json")).unwrap()).unwrap();
    let studies = json["studies"].as_array().unwrap();
    assert_eq!(studies.len(), 2, "{json}");
    for study in studies {
        assert_eq!(study["family_size"], if study["experiment"] == "drop" { 4 } else { 3 });
        for c in study["comparisons"].as_array().unwrap() {
            assert!(["a_better", "b_better", "equivalent", "undecided"].contains(&c["verdict"].as_str().unwrap()));
            assert!(c["statistics"]["seeds"] == 7, "{c}");
        }
    }
    assert!(
        stdout.contains("act eegnet (final-epoch test accuracy): highest mean"),
        "{stdout}"
    );
    // Deterministic, figures and findings.json included.
    let json_before = std::fs::read(dir.join("runs/findings.json")).unwrap();
    assert_eq!(summarize(), stdout);
    assert_eq!(std::fs::read(dir.join("runs/findings.json")).unwrap(), json_before);
    // A filter chooses what is shown, never the family or the numbers.
    let filtered = Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .current_dir(&dir)
        .args(["summarize", "runs", "--no-plots", "--filter", "activation!=elu"])
        .output()
        .unwrap();
    let filtered = String::from_utf8_lossy(&filtered.stdout);
    let relu_leaky = |text: &str| -> String {
        text.lines()
            .find(|l| l.contains("relu") && l.contains("leaky_relu") && l.contains("95% CI") && !l.contains("claims"))
            .unwrap_or_else(|| panic!("no relu/leaky_relu comparison:\n{text}"))
            .to_string()
    };
    assert_eq!(relu_leaky(&filtered), relu_leaky(&stdout));
    for plot in [
        "act-eegnet-differences.png",
        "drop-dropout.png",
        "drop-eegnet-differences.svg",
    ] {
        assert!(dir.join("runs/plots").join(plot).is_file(), "{plot}");
    }
}

#[test]
fn a_filter_keeps_runs_by_experiment_even_when_two_share_a_run_id() {
    // The same spec on the same data in two experiments: one run id, two run folders.
    let dir = out_dir("shared-id");
    for name in ["a", "b"] {
        let body = format!("name = \"{name}\"\ndata = \"synthetic:1:16\"\n[defaults]\nepochs = 1\nbatch_size = 8\n");
        std::fs::write(dir.join(format!("{name}.toml")), body).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
            .current_dir(&dir)
            .arg(format!("{name}.toml"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "check",
        "runs",
        "--baseline",
        "b.json",
        "--update",
        "--filter",
        "experiment=a",
    ]);
    let baseline = std::fs::read_to_string(dir.join("b.json")).unwrap();
    assert!(
        baseline.contains("experiment=a ") && !baseline.contains("experiment=b "),
        "{baseline}"
    );
    run(&["summarize", "runs", "--no-plots", "--filter", "experiment=a"]);
    let summary = std::fs::read_to_string(dir.join("runs/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 2, "{summary}");
}

#[test]
fn a_copied_experiment_folder_is_counted_once_and_refused_by_the_gate() {
    let dir = out_dir("copied");
    let body =
        "name = \"c\"\ndata = \"synthetic:1:16\"\n[defaults]\nepochs = 1\nbatch_size = 8\n[grid]\nseed = [0, 1]\n";
    std::fs::write(dir.join("c.toml"), body).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_eegrun"))
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["c.toml"]).status.success());
    assert!(Command::new("cp")
        .args(["-a", "runs/c", "runs/c-backup"])
        .current_dir(&dir)
        .status()
        .unwrap()
        .success());
    let summary = run(&["summarize", "runs", "--no-plots"]);
    assert!(summary.status.success());
    let stderr = String::from_utf8_lossy(&summary.stderr);
    assert!(stderr.contains("counted once"), "{stderr}");
    let csv = std::fs::read_to_string(dir.join("runs/summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2, "{csv}");
    let gate = run(&["check", "runs", "--baseline", "b.json", "--update"]);
    let stderr = String::from_utf8_lossy(&gate.stderr);
    assert!(
        !gate.status.success() && stderr.contains("two finished runs of one configuration and seed"),
        "{stderr}"
    );
    assert!(!dir.join("b.json").exists(), "nothing recorded");

    // An edited config.json (another lr) no longer matches its folder: left out, not shown
    // as a finished run with the new value.
    std::fs::remove_dir_all(dir.join("runs/c-backup")).unwrap();
    let run_dir = std::fs::read_dir(dir.join("runs/c"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("config.json").exists())
        .unwrap();
    let config = std::fs::read_to_string(run_dir.join("config.json")).unwrap();
    assert!(config.contains("\"lr\": 0.001"), "{config}");
    std::fs::write(
        run_dir.join("config.json"),
        config.replace("\"lr\": 0.001", "\"lr\": 0.5"),
    )
    .unwrap();
    let summary = run(&["summarize", "runs", "--no-plots"]);
    let stderr = String::from_utf8_lossy(&summary.stderr);
    assert!(stderr.contains("left out: its config.json describes run"), "{stderr}");
    let csv = std::fs::read_to_string(dir.join("runs/summary.csv")).unwrap();
    assert!(!csv.contains(",0.5,"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 1, "{csv}");
}

#[test]
fn the_gate_tells_configurations_apart_by_every_setting() {
    // Two configurations that differ only in eps: the old key (model, activation, dropout,
    // batch size, lr, weight decay, epochs) would have merged them.
    let dir = out_dir("eps");
    let body =
        "name = \"e\"\ndata = \"synthetic:1:16\"\n[defaults]\nepochs = 1\nbatch_size = 8\n[grid]\neps = [1e-8, 1e-7]\n";
    std::fs::write(dir.join("e.toml"), body).unwrap();
    succeed_in(&dir, &["e.toml"]);
    let said = succeed_in(&dir, &["check", "runs", "--baseline", "b.json", "--update"]);
    assert!(said.contains("recorded 2 seeds of 2 configurations"), "{said}");
}

#[test]
fn a_differences_figure_draws_at_most_its_40_largest_pairs() {
    // 10 configurations: 45 pairs, of which the figure draws 40 (it grew with their square).
    let dir = out_dir("many-pairs");
    let rates: Vec<String> = (0..10).map(|i| format!("{}", i as f64 / 10.0)).collect();
    let body = format!(
        "name = \"m\"\ndata = \"synthetic:1:40\"\n[defaults]\nepochs = 1\nbatch_size = 20\n[grid]\ndropout = [{}]\nseed = [0, 1]\n",
        rates.join(", ")
    );
    std::fs::write(dir.join("m.toml"), body).unwrap();
    succeed_in(&dir, &["m.toml", "--jobs", "2", "--threads", "1"]);
    succeed_in(&dir, &["summarize", "runs"]);
    let png = image::open(dir.join("runs/plots/m-eegnet-differences.png")).unwrap();
    assert_eq!(png.height(), 140 + 60 * 40, "the figure's height");
    let svg = std::fs::read_to_string(dir.join("runs/plots/m-eegnet-differences.svg")).unwrap();
    assert!(svg.contains("the 40 largest of 45"), "the title says what is left out");
}

#[test]
fn a_large_sweep_lists_its_top_configurations_and_keeps_every_pair_in_the_files() {
    // 4 × 3 × 2 = 24 configurations (above 20): 276 pairs, none printed, all in the files.
    let dir = out_dir("large-sweep");
    std::fs::write(
        dir.join("g.toml"),
        "name = \"g\"\ndata = \"synthetic:1:24\"\n[defaults]\nepochs = 1\nmodel = \"eegnet\"\n\
         [grid]\nlr = [1e-4, 3e-4, 1e-3, 3e-3]\ndropout = [0.1, 0.25, 0.5]\nbatch_size = [8, 12]\nseed = [0, 1]\n",
    )
    .unwrap();
    succeed_in(&dir, &["g.toml", "--jobs", "2", "--threads", "1"]);
    let out = succeed_in(&dir, &["summarize", "runs", "--no-plots"]);
    assert!(
        out.contains("24 configurations, 276 pairs compared: every pair is in findings.json and comparisons.csv; the 10 highest means:"),
        "{out}"
    );
    // No pair is printed (the main effects' contrasts below their header are not pairs).
    let pairs = out.split("Main effects — ").next().unwrap();
    assert_eq!(
        pairs
            .lines()
            .filter(|l| l.contains(" vs ") || l.contains(" > "))
            .count(),
        0,
        "{out}"
    );
    assert!(out.lines().count() < 120, "{} lines", out.lines().count());
    let headline = out.lines().find(|l| l.starts_with("g eegnet (")).expect("the headline");
    assert!(
        headline.len() < 600 && headline.contains("not shown worse"),
        "{headline}"
    );
    let csv = std::fs::read_to_string(dir.join("runs/comparisons.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 276, "a header and every pair");
    // The tables for a paper: the grouped table, each main effect, the top configurations.
    let latex = succeed_in(&dir, &["summarize", "runs", "--no-plots", "--format", "latex"]);
    assert_eq!(
        latex.matches("\\begin{tabular}").count(),
        latex.matches("\\end{tabular}").count()
    );
    assert_eq!(latex.matches("main effect of ").count(), 3, "{latex}");
    assert!(latex.contains("the 10 highest means of 24 configurations"), "{latex}");
    for table in latex.split("\\begin{tabular}").skip(1) {
        let rows: Vec<&str> = table.lines().filter(|l| l.ends_with(" \\\\")).collect();
        let cells = rows[0].matches(" & ").count();
        assert!(
            rows.iter().all(|r| r.matches(" & ").count() == cells),
            "ragged rows: {table}"
        );
        assert!(
            !table.contains("batch_size") && !table.contains(" ± "),
            "unescaped text: {table}"
        );
    }
    // pdflatex sets every table within the page.
    assert_compiles_as_latex(&dir, "large-sweep", &latex);
    // The accuracy curves (one epoch: dots): 8 coloured and 16 grey, each linked to a run of
    // its own configuration (past 16 grey ones they become one band: tests/html_report.rs).
    succeed_in(&dir, &["summarize", "runs"]);
    let svg = std::fs::read_to_string(dir.join("runs/plots/g-eegnet-accuracy.svg")).unwrap();
    let linked: std::collections::BTreeSet<&str> = svg
        .split("<a href=\"#run-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(linked.len(), 24, "a linked line per configuration: {linked:?}");
    for id in &linked {
        assert!(dir.join("runs/g").join(id).is_dir(), "run {id} exists");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("runs/findings.json")).unwrap()).unwrap();
    assert_eq!(json["studies"][0]["comparisons"].as_array().map(Vec::len), Some(276));
    succeed_in(&dir, &["report", "runs", "-o", "report.html"]);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("24 configurations, 276 pairs compared (Holm over 276)"),
        "the page says what it leaves out"
    );
    assert!(html.matches("<td>undecided</td>").count() + html.matches("class=\"verdict").count() < 40);
    // A run's one-line summary names the settings its study varies.
    assert!(
        html.contains(" · g · eegnet · dropout 0.1, batch_size 8, lr 0.0001 · seed 0 · done</summary>"),
        "run summaries name the varied settings"
    );
}

#[test]
fn a_pilot_and_an_extra_run_leave_the_full_study_as_it_is_alone() {
    let study =
        "name = \"drop\"\ndata = \"synthetic:2:40\"\n[defaults]\nepochs = 2\nbatch_size = 20\nmodel = \"eegnet\"\n\
                 [grid]\ndropout = [0.1, 0.5, 0.9]\nseed = [0, 1]\n";
    let alone = out_dir("declared-alone");
    std::fs::write(alone.join("drop.toml"), study).unwrap();
    succeed_in(&alone, &["drop.toml", "--jobs", "2", "--threads", "1"]);
    succeed_in(&alone, &["summarize", "runs", "--no-plots"]);
    // The same study with a pilot at 1 epoch before it and one extra run after it.
    let shared = out_dir("declared-shared");
    std::fs::write(shared.join("drop.toml"), study).unwrap();
    for extra in [
        &["--set", "epochs=1"][..],
        &[],
        &["--set", "dropout=[0.3]", "--set", "seed=[0]"],
    ] {
        let mut args = vec!["drop.toml", "--jobs", "2", "--threads", "1"];
        args.extend_from_slice(extra);
        succeed_in(&shared, &args);
    }
    // Resuming the full study declares nothing new.
    succeed_in(&shared, &["drop.toml", "--jobs", "2", "--threads", "1"]);
    succeed_in(&shared, &["summarize", "runs"]);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shared.join("runs/drop/study.json")).unwrap()).unwrap();
    let commands: Vec<&str> = json["declarations"]
        .as_array()
        .expect("a list of declarations")
        .iter()
        .map(|d| d["command"].as_str().expect("each with its command line"))
        .collect();
    assert_eq!(
        commands,
        [
            "eegrun drop.toml --jobs 2 --threads 1 --set epochs=1",
            "eegrun drop.toml --jobs 2 --threads 1",
            "eegrun drop.toml --jobs 2 --threads 1 --set 'dropout=[0.3]' --set 'seed=[0]'"
        ]
    );
    let text = |dir: &Path| std::fs::read_to_string(dir.join("runs/findings.txt")).unwrap();
    let (alone_text, shared_text) = (text(&alone), text(&shared));
    // Every line of the study alone, headers aside, is in the shared folder's findings, in
    // the same order: its family, verdicts and lab claims are unchanged.
    let body: Vec<&str> = alone_text
        .lines()
        .filter(|l| !l.starts_with("drop: ") && !l.starts_with("drop eegnet — "))
        .collect();
    let mut rest = shared_text.lines();
    for line in &body {
        assert!(
            rest.any(|l| l == *line),
            "missing or out of order: {line}\n{shared_text}"
        );
    }
    assert!(
        shared_text.contains("drop eegnet — study 2 of 3: declared by `eegrun drop.toml --jobs 2 --threads 1`"),
        "studies are told apart in their headers: {shared_text}"
    );
    // A label naming epochs would mean configurations of two declarations in one study.
    assert!(
        !shared_text.contains("epochs 1") && !shared_text.contains("epochs 2"),
        "no comparison across declarations: {shared_text}"
    );
    // Each declaration draws its own dropout figure; the full study's is there.
    assert!(shared.join("runs/plots/drop__d2_-dropout.svg").exists());
    // The page's provenance holds each command line and the experiment file as read.
    succeed_in(&shared, &["report", "runs", "-o", "report.html"]);
    let html = std::fs::read_to_string(shared.join("report.html")).unwrap();
    for command in &commands {
        let command = command.replace('\'', "&#39;");
        assert!(html.contains(&format!("<code>{command}</code>")), "{command}");
    }
    assert_eq!(
        html.matches("<summary>the experiment file</summary><pre>name = &quot;drop&quot;")
            .count(),
        3
    );
    // The full study's dropout figure links every point (a rate's configuration) to a run
    // of that configuration on the page.
    let figure = html
        .split("<figure id=\"figure-drop__d2_-dropout\">")
        .nth(1)
        .and_then(|s| s.split("</figure>").next())
        .expect("the full study's dropout figure");
    assert!(figure.matches("<circle ").count() >= 6, "{figure}");
    assert_eq!(
        figure.matches("<circle ").count(),
        figure.matches("\"><circle ").count(),
        "every point linked"
    );
    for id in figure
        .split("<a href=\"#run-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
    {
        assert!(
            html.contains(&format!("id=\"run-{id}\"")),
            "a point links to run {id}, not on the page"
        );
    }
}
