"""imitation.util.stats: IQM, mean, probability of improvement, bootstrap CIs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from imitation.util import stats


def test_trimmed_mean_matches_scipy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 4, 7, 8, 10, 33):
        values = rng.normal(size=n)
        for proportion in (0.0, 0.1, 0.25, 0.4):
            expected = scipy.stats.trim_mean(values, proportion)
            assert stats.trimmed_mean(values, proportion) == pytest.approx(expected)
    with pytest.raises(ValueError, match="proportion"):
        stats.trimmed_mean([1.0, 2.0], 0.5)


def test_aggregate_point_values_by_hand():
    # Pooled: 0 1 2 3 4 5 6 7; IQM cuts two from each end: mean(2, 3, 4, 5).
    tasks = [np.array([3.0, 0.0, 2.0, 1.0]), np.array([4.0, 7.0, 5.0, 6.0])]
    assert stats.aggregate_iqm(tasks) == pytest.approx(3.5)
    # Mean of task means, not of the pooled runs: (1.5 + 10) / 2, not 6.0.
    ragged = [np.array([1.0, 2.0]), np.array([10.0])]
    assert stats.aggregate_mean(ragged) == pytest.approx(5.75)
    # Seven pooled runs: one cut from each end of 0 .1 .5 .5 .9 1 1.
    seven = [np.array([0.1, 0.5, 0.9, 1.0]), np.array([0.0, 0.5, 1.0])]
    assert stats.aggregate_iqm(seven) == pytest.approx(3.0 / 5)


def test_probability_of_improvement_by_hand():
    # Task 1: x=1 beats 0 (1); x=2 beats 0, ties 2, 2 (2); x=3 beats all (3).
    # 6 of 9 pairs. Task 2: each x=5 ties y=5 and loses to 6: 1 of 4 pairs.
    x = [np.array([1.0, 2.0, 3.0]), np.array([5.0, 5.0])]
    y = [np.array([0.0, 2.0, 2.0]), np.array([5.0, 6.0])]
    assert stats.probability_of_improvement(x, y) == pytest.approx((6 / 9 + 1 / 4) / 2)
    # Symmetry: P(X > Y) + P(Y > X) = 1.
    assert stats.probability_of_improvement(y, x) + stats.probability_of_improvement(
        x, y
    ) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same tasks"):
        stats.probability_of_improvement(x, y[:1])


def test_probability_of_improvement_is_mann_whitney_u():
    rng = np.random.default_rng(1)
    x = [rng.integers(0, 5, size=n).astype(float) for n in (3, 8, 5)]
    y = [rng.integers(0, 5, size=n).astype(float) for n in (4, 8, 2)]
    expected = np.mean(
        [
            scipy.stats.mannwhitneyu(xi, yi).statistic / (xi.size * yi.size)
            for xi, yi in zip(x, y)
        ]
    )
    assert stats.probability_of_improvement(x, y) == pytest.approx(expected)


def test_bootstrap_ci_derived_by_hand():
    """Task A scores 0, 0, 1; task B 1, 1, 1 (normalised scores).

    A resample of A has k ones, k ~ Binomial(3, 1/3): P(k=0) = 8/27,
    P(k=3) = 1/27, both above 2.5%, so A's mean ranges over its extremes 0
    and 1 within the 95% interval; B never changes. Mean = (mean A + 1) / 2:
    point 2/3, CI [0.5, 1]. IQM of the six pooled runs (one cut from each
    end): k=0 gives 0.5 (P 8/27), k=1 0.75, k>=2 1 (P 7/27): point 0.75
    (k=1), CI [0.5, 1].
    """
    tasks = [[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]
    mean = stats.stratified_bootstrap_ci(stats.aggregate_mean, tasks, reps=20_000)
    assert (mean.point, mean.lower, mean.upper) == pytest.approx((2 / 3, 0.5, 1.0))
    iqm = stats.stratified_bootstrap_ci(stats.aggregate_iqm, tasks, reps=20_000)
    assert (iqm.point, iqm.lower, iqm.upper) == pytest.approx((0.75, 0.5, 1.0))
    assert iqm.confidence == 0.95


def test_poi_bootstrap_ci_derived_by_hand():
    """Task 1: x=[1] always beats y=[0]. Task 2: x=[0, 1] against y=[0.5].

    Resampled x on task 2 gives 0 (both 0, P 1/4), 0.5 (P 1/2) or 1 (P 1/4):
    overall (1 + that) / 2 is 0.5, 0.75 or 1, each at least 25% likely.
    Point 0.75, 95% CI [0.5, 1]; a 40% CI holds only the middle value.
    """
    x, y = [[1.0], [0.0, 1.0]], [[0.0], [0.5]]
    poi = stats.stratified_bootstrap_ci(
        stats.probability_of_improvement, x, y, reps=20_000
    )
    assert (poi.point, poi.lower, poi.upper) == pytest.approx((0.75, 0.5, 1.0))
    narrow = stats.stratified_bootstrap_ci(
        stats.probability_of_improvement, x, y, reps=20_000, confidence=0.4
    )
    assert (narrow.lower, narrow.upper) == pytest.approx((0.75, 0.75))


def _loop_bootstrap(statistic, samples, reps, seed, confidence=0.95):
    """The bootstrap one replicate at a time (same draws, documented order)."""
    rng = np.random.default_rng(seed)
    samples = [[np.asarray(t, dtype=float) for t in s] for s in samples]
    indices = [
        [rng.integers(0, t.size, size=(reps, t.size)) for t in sample]
        for sample in samples
    ]
    values = []
    for rep in range(reps):
        resampled = [
            [t[idx[rep]] for t, idx in zip(sample, sample_idx)]
            for sample, sample_idx in zip(samples, indices)
        ]
        values.append(statistic(*resampled))
    tail = (1 - confidence) / 2 * 100
    return np.percentile(values, [tail, 100 - tail])


def _iqm_scipy(tasks):
    return scipy.stats.trim_mean(np.concatenate(tasks), 0.25)


def _poi_pairs(xs, ys):
    """Count the winning (and half the tied) pairs of each task."""
    per_task = []
    for x, y in zip(xs, ys):
        wins = sum(float(a > b) + 0.5 * float(a == b) for a in x for b in y)
        per_task.append(wins / (len(x) * len(y)))
    return np.mean(per_task)


def test_bootstrap_matches_straightforward_loop():
    """The vectorised, chunked bootstrap equals a loop over replicates."""
    rng = np.random.default_rng(2)
    tasks = [rng.normal(size=n) for n in (5, 3, 8)]
    other = [rng.normal(size=n) + 0.3 for n in (4, 6, 2)]
    reps = 1_200  # more than one chunk
    for seed in (0, 7):
        iqm = stats.stratified_bootstrap_ci(
            stats.aggregate_iqm, tasks, reps=reps, seed=seed
        )
        expected = _loop_bootstrap(_iqm_scipy, [tasks], reps, seed)
        assert (iqm.lower, iqm.upper) == pytest.approx(tuple(expected))
        assert iqm.point == pytest.approx(_iqm_scipy(tasks))
        poi = stats.stratified_bootstrap_ci(
            stats.probability_of_improvement, tasks, other, reps=reps, seed=seed
        )
        expected = _loop_bootstrap(_poi_pairs, [tasks, other], reps, seed)
        assert (poi.lower, poi.upper) == pytest.approx(tuple(expected))
        assert poi.point == pytest.approx(_poi_pairs(tasks, other))


def test_bootstrap_is_reproducible_and_seeded():
    rng = np.random.default_rng(3)
    tasks = [rng.normal(size=6) for _ in range(4)]
    first = stats.stratified_bootstrap_ci(stats.aggregate_iqm, tasks, reps=3000)
    again = stats.stratified_bootstrap_ci(stats.aggregate_iqm, tasks, reps=3000)
    other = stats.stratified_bootstrap_ci(stats.aggregate_iqm, tasks, reps=3000, seed=1)
    assert first == again
    assert (first.lower, first.upper) != (other.lower, other.upper)
    assert first.lower < first.point < first.upper


def test_one_run_per_task_has_no_spread():
    est = stats.stratified_bootstrap_ci(
        stats.aggregate_iqm, [[0.2], [0.4], [0.9]], reps=100
    )
    # Three pooled runs: int(0.25 * 3) = 0 cut, so the mean of all three.
    assert (est.point, est.lower, est.upper) == pytest.approx((0.5, 0.5, 0.5))


@pytest.mark.parametrize(
    ("samples", "kwargs", "match"),
    [
        ((), {}, "at least one sample"),
        (([],), {}, "no tasks"),
        (([[1.0], []],), {}, "task 1 needs"),
        (([[1.0, np.nan]],), {}, "not finite"),
        (([[1.0]],), {"reps": 0}, "reps"),
        (([[1.0]],), {"confidence": 1.0}, "confidence"),
    ],
)
def test_bootstrap_bad_input(samples, kwargs, match):
    with pytest.raises(ValueError, match=match):
        stats.stratified_bootstrap_ci(stats.aggregate_mean, *samples, **kwargs)


def test_normalized_score():
    assert stats.normalized_score(60.0, 10.0, 110.0) == pytest.approx(0.5)
    assert stats.normalized_score(-50.0, -50.0, 50.0) == 0.0
    with pytest.raises(ValueError, match="equal"):
        stats.normalized_score(1.0, 5.0, 5.0)
    with pytest.raises(ValueError, match="finite"):
        stats.normalized_score(np.inf, 0.0, 1.0)
