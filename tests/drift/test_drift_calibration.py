"""False alarms and power at small scale: the verdict keeps its alpha and still sees real shifts."""

from __future__ import annotations

import numpy as np

from monitor.drift import DriftPolicy, compare
from tests.drift._sets import identity_set, reasoning_set

POLICY = DriftPolicy(permutations=1000, bootstrap=500)


def test_same_distribution_pairs_rarely_alarm() -> None:
    rng = np.random.default_rng(11)
    alarms = 0
    for rep in range(40):
        mix = rng.dirichlet([16, 2, 6])
        accuracy = rng.beta(0.7, 0.3, size=30)
        alarms += compare(identity_set(mix, seed=2 * rep), identity_set(mix, seed=2 * rep + 1), policy=POLICY).drift
        baseline = reasoning_set(accuracy, seed=2 * rep)
        alarms += compare(baseline, reasoning_set(accuracy, seed=2 * rep + 1), policy=POLICY).drift
    # 80 comparisons at a family-wise alpha of 1%: more than two alarms would be a calibration bug.
    assert alarms <= 2


def test_large_shifts_are_found() -> None:
    rng = np.random.default_rng(12)
    found_identity = found_accuracy = 0
    for rep in range(10):
        baseline = identity_set((0.80, 0.02, 0.18), seed=2 * rep, embed=False)
        candidate = identity_set((0.55, 0.27, 0.18), seed=2 * rep + 1, embed=False)
        found_identity += compare(baseline, candidate, policy=POLICY).metric("claim_rate:openai").flagged
        accuracy = rng.beta(0.7, 0.3, size=50)
        dropped = accuracy * (1 - 0.3 / accuracy.mean())
        report = compare(reasoning_set(accuracy, seed=rep), reasoning_set(dropped, seed=100 + rep), policy=POLICY)
        found_accuracy += report.metric("accuracy").flagged
    assert found_identity >= 9
    assert found_accuracy >= 9
