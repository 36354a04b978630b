"""scikit-learn's estimator checks on every estimator of the package."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_lambda3 import Lambda3Features

ROWS_ARE_TIME = (
    "rows are consecutive time steps: features of a row depend on its neighbours, so "
    "permuting rows or transforming a subset changes them by design"
)

EXPECTED_FAILED_CHECKS = {
    "Lambda3Features": {
        "check_methods_sample_order_invariance": ROWS_ARE_TIME,
        "check_methods_subset_invariance": ROWS_ARE_TIME,
    },
}

ESTIMATORS = [Lambda3Features()]


def _expected_failures(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
