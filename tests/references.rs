//! eegrun's findings against the references on PyPI: baycomp (Bayesian t-tests with a region
//! of practical equivalence) and deepsig (almost stochastic order). The numbers must agree
//! where the methods coincide and the verdicts in the clear cases
//! (`scripts/crosscheck_references.py` says which and why). Skips with a message where
//! python3, baycomp or deepsig are missing, unless EEGRUN_REQUIRE_REFERENCES is set (CI).

mod common;

use common::Scratch;

use eegrun::report::stats::{self, Comparison};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::process::Command;

/// Per-seed predictions of a configuration right with probability `p` on each trial.
fn predictions(rng: &mut ChaCha8Rng, seeds: usize, trials: usize, p: f64) -> Vec<Vec<u8>> {
    (0..seeds)
        .map(|_| (0..trials).map(|_| (rng.gen::<f64>() < p) as u8).collect())
        .collect()
}

fn accuracy(seeds: &[Vec<u8>]) -> Vec<f64> {
    seeds
        .iter()
        .map(|s| s.iter().map(|&v| v as f64).sum::<f64>() / s.len() as f64)
        .collect()
}

/// True when python3 has scipy, baycomp and deepsig; false (skipping, saying so) when it
/// does not, unless EEGRUN_REQUIRE_REFERENCES is set (CI), which fails instead.
fn references_ready() -> bool {
    let ready = Command::new("python3")
        .args(["-c", "import scipy.stats, baycomp, deepsig"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        assert!(
            std::env::var_os("EEGRUN_REQUIRE_REFERENCES").is_none(),
            "EEGRUN_REQUIRE_REFERENCES is set but python3 cannot import scipy, baycomp and deepsig"
        );
        eprintln!("skipped: python3 with scipy, baycomp and deepsig is needed (pip install scipy baycomp deepsig)");
    }
    ready
}

/// Runs scripts/crosscheck_references.py on `cases` (written in a scratch folder `name`)
/// and asserts that every case agrees.
fn crosscheck(name: &str, cases: &[serde_json::Value]) {
    let dir = Scratch::new(name);
    let path = dir.join("cases.json");
    std::fs::write(&path, serde_json::to_vec(cases).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/crosscheck_references.py");
    let out = Command::new("python3").arg(script).arg(&path).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("{} cases agree", cases.len())), "{text}");
}

#[test]
fn numbers_and_clear_verdicts_agree_with_baycomp_and_deepsig() {
    if !references_ready() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // (name, seeds, trials, accuracy of A, of B, clear verdict)
    let setups = [
        ("gap of 20 points, 3 seeds", 3, 1363, 0.8, 0.6, "a_better"),
        ("the same configuration, 10 seeds", 10, 1363, 0.75, 0.75, "same"),
        ("a 1-point gap, 10 seeds", 10, 1363, 0.76, 0.75, "none"),
        ("a 3-point gap, 5 seeds, 300 trials", 5, 300, 0.78, 0.75, "none"),
        ("a 2-point gap, 2 seeds, 500 trials", 2, 500, 0.77, 0.75, "none"),
    ];
    let trials_of = |t: usize| (0..t).collect::<Vec<usize>>();
    let cases: Vec<serde_json::Value> = setups
        .iter()
        .map(|&(name, seeds, trials, pa, pb, clear)| {
            let a = predictions(&mut rng, seeds, trials, pa);
            // (recomputed from these by the script, independently of eegrun's estimate)
            let b = predictions(&mut rng, seeds, trials, pb);
            let c: Comparison = stats::compare(&a, &b, &trials_of(trials), 0.01, stats::ALPHA);
            serde_json::json!({
                "name": name,
                "rope": c.rope,
                "difference": c.difference,
                "se": c.se.unwrap(),
                "df": c.df,
                "p": c.p,
                "p_equivalent": c.p_equivalent,
                "verdict": c.verdict(),
                "per_seed_a": accuracy(&a),
                "per_seed_b": accuracy(&b),
                "correct_a": a,
                "correct_b": b,
                "cluster": trials_of(trials),
                "clear": clear,
            })
        })
        .collect();
    crosscheck("references", &cases);
}

#[test]
fn per_subject_verdicts_agree_with_scipy() {
    if !references_ready() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    // (name, subjects, mean difference, spread over subjects, clear verdict)
    let setups = [
        ("20 subjects, A better by 8 points", 20, 0.08, 0.05, "a_better"),
        ("30 subjects, no difference", 30, 0.0, 0.05, "same"),
        ("10 subjects, a 2-point gap", 10, 0.02, 0.06, "none"),
        ("5 subjects, a 5-point gap", 5, 0.05, 0.08, "none"),
    ];
    let cases: Vec<serde_json::Value> = setups
        .iter()
        .map(|&(name, subjects, mean, spread, clear)| {
            let units: Vec<f64> = (0..subjects)
                .map(|_| {
                    // A sum of uniforms: near normal, never exactly tied.
                    let z: f64 = (0..12).map(|_| rng.gen::<f64>()).sum::<f64>() - 6.0;
                    mean + spread * z
                })
                .collect();
            let c: Comparison = stats::compare_units("subject", &units, 2, 15 * subjects, false, 0.01, stats::ALPHA);
            serde_json::json!({
                "name": name,
                "rope": c.rope,
                "difference": c.difference,
                "p": c.p,
                "p_equivalent": c.p_equivalent,
                "verdict": c.verdict(),
                "units": units,
                "clear": clear,
            })
        })
        .collect();
    crosscheck("references-units", &cases);
}
