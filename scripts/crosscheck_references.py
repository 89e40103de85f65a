#!/usr/bin/env python3
"""Cross-checks eegrun's findings against baycomp and deepsig (tests/references.rs).

Input: a JSON file of cases, each with eegrun's comparison of A against B (difference,
standard error, degrees of freedom, p-values, verdict) and the per-seed accuracies.

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
Prints one line per case; exits non-zero on the first disagreement.
"""
import json
import sys

import numpy as np
from baycomp.single import CorrelatedTTest, Posterior
from deepsig import aso


def main(path):
    cases = json.load(open(path))
    for case in cases:
        name, rope = case["name"], case["rope"]
        a, b = np.array(case["per_seed_a"]), np.array(case["per_seed_b"])
        # baycomp's Posterior is over y − x: pass x = B, y = A so that it is over A − B.
        posterior = Posterior(case["difference"], case["se"] ** 2, case["df"], rope, 0, 0)
        left, within, right = posterior.probs()
        zero = Posterior(case["difference"], case["se"] ** 2, case["df"], 0, 0, 0)
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
