"""interaction_effects: recovery of a known one-way drive, reproducibility, lags, inputs, output."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3Features
from sklearn_lambda3 import _interactions as interactions_module
from sklearn_lambda3.analysis import InteractionResult, interaction_effects

N_STEPS = 3000
EFFECT = 1.0
# Wide intervals for the null pairs: at 98 % a pair without effect excludes 0 by chance in 2 % of
# the data sets, while the driven pair (about five posterior sd from 0) still excludes it.
COVERAGE = 0.98
KINDS = ("jump_pos", "jump_neg", "tension")


def make_frame(seed=0, lag=0, n=N_STEPS):
    """A drives B through its ΔΛC⁺ events, ``lag`` steps later; C is independent of both.

    A is noise plus rare spikes of 4, all of which its ΔΛC⁺ marks. B gets ``EFFECT`` at (lagged)
    ΔΛC⁺ events of A, under noise of sd 1, so B's own jump features rarely mark those events and
    the whole effect is A's coefficient. C is noise with spikes of its own.
    """
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.3, n) + 4.0 * (rng.random(n) < 0.01)
    jumps_a = Lambda3Features().fit_transform(a[:, None])[:, 0]
    drive = np.r_[np.zeros(lag), jumps_a[: n - lag]]
    b = rng.normal(0, 1.0, n) + EFFECT * drive
    c = rng.normal(0, 0.5, n) + 3.0 * (rng.random(n) < 0.01)
    return pd.DataFrame({"A": a, "B": b, "C": c})


def assert_same_result(result, reference):
    assert result.names == reference.names
    for kind in KINDS:
        for field in ("mean", "lower", "upper"):
            np.testing.assert_array_equal(getattr(result, field)[kind], getattr(reference, field)[kind])
    for field in ("r_hat_max", "ess_bulk_min", "num_divergences"):
        np.testing.assert_array_equal(getattr(result, field), getattr(reference, field))


@pytest.fixture(scope="module")
def three():
    return interaction_effects(make_frame(), coverage=COVERAGE, random_state=0, n_jobs=1)


def test_one_way_drive_is_found(three):
    A, B, C = 0, 1, 2
    excludes = three.excludes_zero("jump_pos")
    assert excludes[A, B]
    assert three.lower["jump_pos"][A, B] > 0
    # B's own jumps take a little of the effect (seeds 0-9: posterior means 0.58-1.18).
    assert abs(three.mean["jump_pos"][A, B] - EFFECT) < 0.5
    for source, target in [(B, A), (A, C), (C, A), (B, C), (C, B)]:
        assert not excludes[source, target], (source, target)
        assert three.lower["jump_pos"][source, target] < 0 < three.upper["jump_pos"][source, target]


def test_shapes_diagonal_and_diagnostics(three):
    assert isinstance(three, InteractionResult)
    assert three.names == ["A", "B", "C"]
    assert three.coverage == COVERAGE and three.lag == 0
    off = ~np.eye(3, dtype=bool)
    for kind in KINDS:
        for matrix in (three.mean[kind], three.lower[kind], three.upper[kind]):
            assert matrix.shape == (3, 3)
            assert np.all(np.isnan(np.diag(matrix)))
            assert np.all(np.isfinite(matrix[off]))
        assert np.all(three.lower[kind][off] < three.mean[kind][off])
        assert np.all(three.mean[kind][off] < three.upper[kind][off])
    for matrix in (three.r_hat_max, three.ess_bulk_min, three.num_divergences):
        assert matrix.shape == (3, 3) and np.all(np.isnan(np.diag(matrix)))
    # The default sampler converges on these models.
    assert np.all(three.r_hat_max[off] < 1.05)
    assert np.all(three.ess_bulk_min[off] > 400)
    assert np.all(three.num_divergences[off] == 0)


def test_same_seed_same_result_whatever_n_jobs(three):
    threaded = interaction_effects(make_frame(), coverage=COVERAGE, random_state=0, n_jobs=2)
    assert_same_result(threaded, three)
    other_seed = interaction_effects(make_frame(), coverage=COVERAGE, random_state=1, n_jobs=2)
    assert not np.array_equal(other_seed.mean["jump_pos"], three.mean["jump_pos"], equal_nan=True)


def test_coverage_only_moves_the_bounds(three):
    narrow = interaction_effects(make_frame(), coverage=0.5, random_state=0, n_jobs=2)
    off = ~np.eye(3, dtype=bool)
    for kind in KINDS:
        np.testing.assert_array_equal(narrow.mean[kind], three.mean[kind])
        assert np.all(narrow.lower[kind][off] > three.lower[kind][off])
        assert np.all(narrow.upper[kind][off] < three.upper[kind][off])


def test_lagged_drive_is_found_at_its_lag():
    frame = make_frame(seed=0, lag=1)[["A", "B"]]
    regressor = Lambda3BayesRegressor(**interactions_module.DEFAULT_SETTINGS)
    lagged = interaction_effects(
        frame, lag=1, coverage=COVERAGE, regressor=regressor, random_state=0, n_jobs=2
    )
    assert lagged.lag == 1
    assert lagged.excludes_zero("jump_pos")[0, 1]
    assert abs(lagged.mean["jump_pos"][0, 1] - EFFECT) < 0.5
    assert not lagged.excludes_zero("jump_pos")[1, 0]
    # At lag 0, A's ΔΛC⁺ at t is not what moves B at t...
    same_step = interaction_effects(frame, coverage=COVERAGE, regressor=regressor, random_state=0, n_jobs=2)
    assert not same_step.excludes_zero("jump_pos")[0, 1]
    # ...but A's ΔΛC⁻ at t is: it marks the fall right after A's spike at t - 1.
    assert same_step.lower["jump_neg"][0, 1] > 0
    # The regressor given is cloned, never fitted itself.
    assert not hasattr(regressor, "coef_")


# Split R-hat of 2000 draws can exceed 1.01 by noise alone (ESS is in the thousands here).
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_array_input_names_and_to_frame():
    values = make_frame(seed=1, n=400)[["A", "C"]].to_numpy()
    result = interaction_effects(values, random_state=0, n_jobs=2)
    assert result.names == ["x0", "x1"]
    frame = result.to_frame()
    assert list(frame.columns) == [
        "source",
        "target",
        "kind",
        "mean",
        "lower",
        "upper",
        "r_hat_max",
        "ess_bulk_min",
        "num_divergences",
    ]
    assert len(frame) == 2 * 3
    assert frame[["source", "target"]].drop_duplicates().values.tolist() == [["x0", "x1"], ["x1", "x0"]]
    assert frame["kind"].tolist() == list(KINDS) * 2
    for row in frame.itertuples():
        i, j = result.names.index(row.source), result.names.index(row.target)
        assert row.mean == result.mean[row.kind][i, j]
        assert row.lower == result.lower[row.kind][i, j]
        assert row.upper == result.upper[row.kind][i, j]
        assert row.r_hat_max == result.r_hat_max[i, j]


def test_repr(three):
    text = repr(three)
    assert text.startswith("InteractionResult(3 series, lag=0, 98% intervals")
    for kind in KINDS:
        assert f"{kind}: posterior mean" in text
    jump_block = text.split("jump_pos: posterior mean")[1].split("jump_neg")[0]
    row_a = [line for line in jump_block.splitlines() if line.startswith("A ")][0]
    assert row_a.count("*") == 1  # A -> B only
    assert "max R-hat" in text and "min bulk ESS" in text


def test_one_warning_names_the_pairs_that_did_not_converge():
    frame = make_frame(seed=2, n=300)[["A", "B"]]
    short = Lambda3BayesRegressor(num_warmup=20, num_samples=20, num_chains=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = interaction_effects(frame, regressor=short, random_state=0)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1
    message = str(convergence[0].message)
    assert "A -> B" in message and "B -> A" in message  # 40 draws: ESS < 100 per chain in both
    assert np.all(result.ess_bulk_min[~np.eye(2, dtype=bool)] < 200)


@pytest.fixture
def no_fitting(monkeypatch):
    """Validation must fail before any model is fitted."""

    def fail(*args, **kwargs):
        raise AssertionError("a model was fitted before the inputs were checked")

    monkeypatch.setattr(interactions_module, "_fit_pair", fail)


GOOD = make_frame(n=50)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"data": GOOD[["A"]]}, ValueError, "at least 2 series"),
        ({"data": GOOD["A"].to_numpy()}, ValueError, "2-D"),
        ({"data": np.array([["a", "b"], ["c", "d"], ["e", "f"]])}, TypeError, "data must hold real"),
        ({"data": GOOD.assign(A=GOOD["A"].where(GOOD.index != 3))}, ValueError, "NaN or infinite"),
        ({"data": GOOD.assign(B=np.inf)}, ValueError, "NaN or infinite"),
        ({"data": GOOD.rename(columns={"B": "A"})}, ValueError, "unique"),
        ({"lag": -1}, ValueError, "lag must be >= 0"),
        ({"lag": 48}, ValueError, "lag must be smaller than n_steps - 2 = 48"),
        ({"lag": 1.5}, TypeError, "lag must be an integer"),
        ({"coverage": 0.0}, ValueError, "coverage must lie strictly between 0 and 1"),
        ({"coverage": 1.0}, ValueError, "coverage"),
        ({"coverage": np.nan}, ValueError, "coverage"),
        ({"coverage": "0.9"}, TypeError, "coverage must be a real number"),
        ({"regressor": LinearRegression()}, TypeError, "regressor must be a Lambda3BayesRegressor"),
        ({"feature_params": [("window", 5)]}, TypeError, "feature_params must be a dict"),
        ({"feature_params": {"window": 0}}, ValueError, "window"),
    ],
)
def test_invalid_inputs(no_fitting, kwargs, error, match):
    kwargs = {"data": GOOD, **kwargs}
    with pytest.raises(error, match=match):
        interaction_effects(**kwargs)


def test_chosen_pairs_equal_those_of_the_fit_of_every_pair(three):
    chosen = interaction_effects(make_frame(), pairs=[("A", "B"), (2, 0)], coverage=COVERAGE, random_state=0)
    expected = np.zeros((3, 3), dtype=bool)
    expected[0, 1] = expected[2, 0] = True
    np.testing.assert_array_equal(chosen.fitted, expected)
    np.testing.assert_array_equal(three.fitted, ~np.eye(3, dtype=bool))
    for kind in KINDS:
        for field in ("mean", "lower", "upper"):
            ours, full = getattr(chosen, field)[kind], getattr(three, field)[kind]
            np.testing.assert_array_equal(ours[expected], full[expected])  # the same seeds
            assert np.all(np.isnan(ours[~expected]))
    assert not chosen.converged[~expected].any()
    frame = chosen.to_frame()
    assert sorted(set(zip(frame["source"], frame["target"], strict=True))) == [("A", "B"), ("C", "A")]
    text = repr(chosen)
    assert "not fitted" in text and "diagnostics over the 2 models" in text


@pytest.mark.parametrize(
    "pairs, error, match",
    [
        ("AB", TypeError, "pairs must be a sequence"),
        ([("A", "B", "C")], TypeError, "each element of pairs"),
        ([("A", "Z")], ValueError, "'Z', which is not a series"),
        ([(0, 3)], ValueError, "column position 3"),
        ([(0, 1.0)], TypeError, "a name or a column position"),
        ([("A", "A")], ValueError, "with itself"),
        ([("A", "B"), (0, 1)], ValueError, "twice"),
        ([], ValueError, "pairs is empty"),
    ],
)
def test_invalid_pairs(no_fitting, pairs, error, match):
    with pytest.raises(error, match=match):
        interaction_effects(GOOD, pairs=pairs)


def test_excludes_zero_rejects_unknown_kind(three):
    with pytest.raises(ValueError, match="kind must be one of"):
        three.excludes_zero("jump")


def hand_result(names, value, fitted, lag, coverage=0.9):
    """A result whose fitted pairs all hold ``value`` (NaN elsewhere), converged on even sources."""
    p = len(names)
    fitted = np.asarray(fitted, dtype=bool)

    def matrix(v):
        return np.where(fitted, v, np.nan)

    return InteractionResult(
        names=list(names),
        mean={kind: matrix(value) for kind in KINDS},
        lower={kind: matrix(value - 1.0) for kind in KINDS},
        upper={kind: matrix(value + 1.0) for kind in KINDS},
        r_hat_max=matrix(1.0 + value / 100),
        ess_bulk_min=matrix(100.0 * value),
        num_divergences=matrix(value),
        coverage=coverage,
        lag=lag,
        converged=fitted & (np.arange(p)[:, None] % 2 == 0),
        fitted=fitted,
    )


def test_merge_writes_the_other_results_fitted_pairs_over_this_one():
    names = ["a", "b", "c"]
    first = hand_result(names, 1.0, [[0, 1, 1], [0, 0, 0], [0, 0, 0]], lag=0)
    second = hand_result(names, 2.0, [[0, 0, 1], [1, 0, 0], [0, 0, 0]], lag=3)
    merged = first.merge(second)
    # a -> b from the first; a -> c and b -> a from the second (it overrides); the rest unfitted.
    expected_fitted = np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(merged.fitted, expected_fitted)
    expected = np.array([[np.nan, 1.0, 2.0], [2.0, np.nan, np.nan], [np.nan, np.nan, np.nan]])
    for kind in KINDS:
        np.testing.assert_array_equal(merged.mean[kind], expected)
        np.testing.assert_array_equal(merged.lower[kind], expected - 1.0)
        np.testing.assert_array_equal(merged.upper[kind], expected + 1.0)
    np.testing.assert_array_equal(merged.ess_bulk_min, 100.0 * expected)
    np.testing.assert_array_equal(merged.num_divergences, expected)
    np.testing.assert_array_equal(merged.r_hat_max, 1.0 + expected / 100)
    # Converged on even sources: a's pairs yes, b -> a (from the second) no.
    np.testing.assert_array_equal(merged.converged, [[0, 1, 1], [0, 0, 0], [0, 0, 0]])
    assert merged.lag is None  # one lag per pair
    assert merged.coverage == 0.9 and merged.names == names
    # Neither input changed.
    assert first.mean["jump_pos"][0, 2] == 1.0 and not first.fitted[1, 0]
    assert first.lag == 0 and second.lag == 3


def test_merge_at_one_lag_keeps_it_and_rejects_other_series_or_coverage():
    names = ["a", "b"]
    first = hand_result(names, 1.0, [[0, 1], [0, 0]], lag=2)
    second = hand_result(names, 5.0, [[0, 0], [1, 0]], lag=2)
    merged = first.merge(second)
    assert merged.lag == 2
    assert merged.mean["tension"][0, 1] == 1.0 and merged.mean["tension"][1, 0] == 5.0
    with pytest.raises(ValueError, match="same series"):
        first.merge(hand_result(["a", "c"], 1.0, [[0, 1], [0, 0]], lag=2))
    with pytest.raises(ValueError, match="same coverage"):
        first.merge(hand_result(names, 1.0, [[0, 1], [0, 0]], lag=2, coverage=0.5))
    with pytest.raises(TypeError, match="InteractionResult"):
        first.merge("not a result")
