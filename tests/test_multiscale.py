"""Lambda3MultiScale against Lambda3Features at each scale."""

import numpy as np
import pytest

from sklearn_lambda3 import Lambda3Features, Lambda3MultiScale
from sklearn_lambda3.datasets import make_jump_series


def test_columns_are_each_scales_tension_and_local_jumps():
    X = make_jump_series(500, n_series=2, random_state=0)
    multi = Lambda3MultiScale(windows=(3, 12), local_jump_percentile=90).fit(X)
    out = multi.transform(X)
    assert out.shape == (500, 8)
    names = list(multi.get_feature_names_out())
    for w in (3, 12):
        single = Lambda3Features(window=w, local_window=w, local_jump_percentile=90).fit_transform(X)
        for j in range(2):
            np.testing.assert_array_equal(out[:, names.index(f"x{j}__rho_T__w{w}")], single[:, 4 * j + 2])
            np.testing.assert_array_equal(
                out[:, names.index(f"x{j}__local_jump__w{w}")], single[:, 4 * j + 3]
            )
    assert names[:4] == ["x0__rho_T__w3", "x0__local_jump__w3", "x0__rho_T__w12", "x0__local_jump__w12"]


def test_transform_uses_the_training_thresholds():
    X = make_jump_series(600, random_state=1)
    train, test = X[:400], X[400:] * 3.0
    multi = Lambda3MultiScale(windows=(5,)).fit(train)
    reference = Lambda3Features(window=5, local_window=5).fit(train).transform(test)
    np.testing.assert_array_equal(multi.transform(test), reference[:, 2:])
    assert multi.scale_features_[0].local_jump_threshold_ == pytest.approx(
        Lambda3Features(window=5, local_window=5).fit(train).local_jump_threshold_
    )


def test_pandas_names_and_the_analysis_function():
    pd = pytest.importorskip("pandas")
    from sklearn_lambda3.analysis import multiscale_features

    frame = pd.DataFrame(make_jump_series(300, n_series=2, random_state=2), columns=["a", "b"])
    out = Lambda3MultiScale(windows=(5, 10)).set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns[:2]) == ["a__rho_T__w5", "a__local_jump__w5"]
    pd.testing.assert_frame_equal(out, multiscale_features(frame, windows=(5, 10)))


@pytest.mark.parametrize(
    ("windows", "error", "match"),
    [
        ((), ValueError, "at least one"),
        ((4, 4), ValueError, "distinct"),
        ((0, 3), ValueError, ">= 1"),
        ((2.5,), TypeError, "integers"),
        (("a",), TypeError, "integers"),
    ],
)
def test_bad_windows(windows, error, match):
    with pytest.raises(error, match=match):
        Lambda3MultiScale(windows=windows).fit(np.ones((20, 1)))
