"""What every plot shares: matplotlib imported on first use, and the Axes or Figure to draw on.

matplotlib is imported inside these helpers, never at module level, so that importing
:mod:`sklearn_lambda3.plot` works without the optional extra ``[plot]``.
"""

_INSTALL_HINT = 'pip install "sklearn-lambda3[plot]"'


def pyplot():
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"sklearn_lambda3.plot needs matplotlib: {_INSTALL_HINT}") from exc
    return plt


def axes_to_draw_on(ax, **subplots_kwargs):
    """The given Axes (checked), or the Axes of a new figure."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(layout="constrained", **subplots_kwargs)
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}.")
    return ax


def figure_to_draw_on(fig, **figure_kwargs):
    """The given Figure (checked), or a new figure with the constrained layout."""
    plt = pyplot()
    if fig is None:
        return plt.figure(layout="constrained", **figure_kwargs)
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure or None; got {type(fig).__name__}.")
    return fig


def figure_legend_loc(fig, loc):
    """``loc`` for ``fig.legend``, outside the axes where the constrained layout can make room."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        return f"outside {loc}"
    return loc
