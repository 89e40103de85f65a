#!/usr/bin/env python3
"""Cross-checks eegrun's findings against baycomp and deepsig (tests/references.rs).

Input: a JSON file of cases, each with eegrun's comparison of A against B (difference,
standard error, degrees of freedom, p-values, verdict) and the raw material: each seed's
per-trial correctness of A and of B, and each trial's cluster (subject).

First, eegrun's estimate is recomputed here from the raw material, independently of eegrun's
code (`crossed_estimate`, from the formulas in docs/findings.md): the difference, its
crossed random-effects variance and Satterthwaite's degrees of freedom must equal eegrun's
(within 1e-9 relative). Baycomp is then fed these recomputed inputs, not eegrun's.

Where the methods coincide, the numbers must agree:
- eegrun's t statistic on its own variance and degrees of freedom is a Student posterior
  under a flat prior, which is what baycomp's Posterior computes: eegrun's two-sided p equals
  2 min(P(A < B), P(A > B)) and its equivalence p equals max(P(A − B < −rope),
  P(A − B > rope)) from baycomp's Posterior built on the same mean, variance and df.
Where they do not, the verdicts must agree in the clear cases:
- baycomp's correlated t-test on the per-seed accuracies (Nadeau-Bengio's correction for
  cross-validation folds, which a set of seeds on one test set is not) and deepsig's almost
  stochastic order (score distributions over seeds, no test-set variance) both call a
  20-point gap in every seed a win for A, and neither calls two identical configurations
  different. In the close cases they may disagree with eegrun: both ignore the test set's
  own sampling, which eegrun counts (README "Findings").
Per-subject cases (a `units` key: each unit's difference, for studies whose models are
trained per subject or fold) are checked against scipy: eegrun's paired t over subjects must
equal scipy.stats.ttest_1samp's two-sided p and its equivalence p the larger of the two
one-sided ttest_1samp p-values at ±rope (within 1e-9), and in the clear cases the Wilcoxon
signed-rank test (scipy.stats.wilcoxon, no normality assumed) must agree with the verdict.
Prints one line per case; exits non-zero on the first disagreement.
"""
import json
import sys

import numpy as np
from baycomp.single import CorrelatedTTest, Posterior
from deepsig import aso


def crossed_estimate(correct_a, correct_b, cluster):
    """The mean of A − B over seeds and trials, the variance of that mean and its degrees of
    freedom (docs/findings.md): seed part, seeds × clusters interaction and cluster part from
    the seeds × clusters table of summed differences; with two seeds the larger of the seed
    and interaction parts plus the cluster part, on 1 degree of freedom."""
    d = np.asarray(correct_a, float) - np.asarray(correct_b, float)  # seeds × trials
    n, total = d.shape
    cluster = np.asarray(cluster)
    groups = cluster.max() + 1
    x = np.zeros((n, groups))
    for g in range(groups):
        x[:, g] = d[:, cluster == g].sum(axis=1)
    size = np.bincount(cluster, minlength=groups).astype(float)
    seed_means = x.sum(axis=1) / total
    mean = seed_means.mean()
    v_seed = seed_means.var(ddof=1) / n
    cluster_mean = x.mean(axis=0)
    v_cluster = groups / (groups - 1) * ((cluster_mean - size * mean) ** 2).sum() / total ** 2
    residual = ((x - cluster_mean[None, :] - size[None, :] * (seed_means[:, None] - mean)) ** 2).sum()
    v_interaction = groups / (groups - 1) * residual / ((n - 1) * total ** 2 * n)
    cluster_part = max(v_cluster - v_interaction, 0.0)
    if n == 2:
        return mean, max(v_seed, v_interaction) + cluster_part, 1.0
    variance = max(v_seed - v_interaction, 0.0) + v_interaction + cluster_part
    df = variance ** 2 / (v_seed ** 2 / (n - 1) + v_cluster ** 2 / (groups - 1)
                          + v_interaction ** 2 / ((n - 1) * (groups - 1)))
    return mean, variance, df


def check_units(case):
    """A per-subject case against scipy's paired t and Wilcoxon signed-rank tests."""
    from scipy import stats
    name, rope, d = case["name"], case["rope"], np.asarray(case["units"], float)
    close = lambda x, y: abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1e-12)
    assert close(d.mean(), case["difference"]), (name, "difference", d.mean(), case["difference"])
    t = stats.ttest_1samp(d, 0.0)
    assert abs(t.pvalue - case["p"]) < 1e-9, (name, "p", t.pvalue, case["p"])
    above = stats.ttest_1samp(d, -rope, alternative="greater").pvalue
    below = stats.ttest_1samp(d, rope, alternative="less").pvalue
    assert abs(max(above, below) - case["p_equivalent"]) < 1e-9, (name, "equivalence p", max(above, below), case["p_equivalent"])
    wilcoxon = stats.wilcoxon(d).pvalue
    print(f"{name}: eegrun {case['verdict']} (paired t p {case['p']:.4g}, equivalence p {case['p_equivalent']:.4g}); "
          f"scipy ttest_1samp p {t.pvalue:.4g}, TOST p {max(above, below):.4g}; Wilcoxon signed-rank p {wilcoxon:.4g}")
    if case["clear"] == "a_better":
        assert case["verdict"] == "a_better" and wilcoxon < 0.05, (name, wilcoxon)
    if case["clear"] == "same":
        assert case["verdict"] in ("equivalent", "undecided") and wilcoxon > 0.05, (name, wilcoxon)


def main(path):
    cases = json.load(open(path))
    for case in cases:
        if "units" in case:
            check_units(case)
            continue
        name, rope = case["name"], case["rope"]
        a, b = np.array(case["per_seed_a"]), np.array(case["per_seed_b"])
        mean, variance, df = crossed_estimate(case["correct_a"], case["correct_b"], case["cluster"])
        close = lambda x, y: abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1e-12)
        assert close(mean, case["difference"]), (name, "difference", mean, case["difference"])
        assert close(variance, case["se"] ** 2), (name, "variance", variance, case["se"] ** 2)
        assert close(df, case["df"]), (name, "df", df, case["df"])
        # baycomp's Posterior is over y − x: pass x = B, y = A so that it is over A − B.
        posterior = Posterior(mean, variance, df, rope, 0, 0)
        left, within, right = posterior.probs()
        zero = Posterior(mean, variance, df, 0, 0, 0)
        below, above = zero.probs()
        p_two_sided = min(1.0, 2 * min(below, above))
        p_equivalent = max(left, right)
        assert abs(p_two_sided - case["p"]) < 1e-6, (name, p_two_sided, case["p"])
        assert abs(p_equivalent - case["p_equivalent"]) < 1e-6, (name, p_equivalent, case["p_equivalent"])
        nb_left, nb_rope, nb_right = CorrelatedTTest.probs(b, a, rope=rope)
        eps = aso(a, b, seed=0, show_progress=False, num_bootstrap_iterations=500)
        print(
            f"{name}: eegrun {case['verdict']} (p {case['p']:.4g}, equivalence p {case['p_equivalent']:.4g}); "
            f"baycomp posterior on eegrun's variance: P(A<B−r) {left:.4f}, P(rope) {within:.4f}, P(A>B+r) {right:.4f}; "
            f"baycomp correlated t on seeds: {nb_left:.4f}/{nb_rope:.4f}/{nb_right:.4f}; deepsig ASO eps_min(A,B) {eps:.3f}"
        )
        if case["clear"] == "a_better":
            assert case["verdict"] == "a_better", name
            assert nb_right > 0.95, (name, nb_right)
            assert eps < 0.2, (name, eps)
        if case["clear"] == "same":
            assert case["verdict"] in ("equivalent", "undecided"), name
            assert max(nb_left, nb_right) < 0.95, (name, nb_left, nb_right)
            assert eps > 0.2, (name, eps)
    print(f"{len(cases)} cases agree")


if __name__ == "__main__":
    main(sys.argv[1])
