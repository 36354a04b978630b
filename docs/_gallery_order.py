"""The gallery's examples in reading order (sphinx-gallery's ``within_subsection_order``).

A module of its own, named in conf.py by its dotted path: Sphinx pickles its configuration, which
holds no function defined in conf.py.
"""

EXAMPLE_ORDER = [
    "plot_features_pipeline.py",
    "plot_linear_regressor.py",
    "plot_hierarchical_regressor.py",
    "plot_dynamic_regressor.py",
    "plot_change_points.py",
    "plot_analyze_command.py",
    "plot_sktime_forecaster.py",
]


class ReadingOrder:
    """Features, the three regressors, change points, the command, sktime; others after, by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in EXAMPLE_ORDER:
            return (EXAMPLE_ORDER.index(filename), filename)
        return (len(EXAMPLE_ORDER), filename)

    def __repr__(self):
        return f"<{type(self).__name__}>"
