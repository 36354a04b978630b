"""Analysis of series: change points, synchronisation, causality, interactions, scale breaks and regimes."""

from ._changepoints import detect_change_points
from ._interactions import InteractionResult, interaction_effects
from ._multiscale import multiscale_features, scale_breaks
from ._regimes import RegimeResult, detect_regimes
from ._sync import causality_matrix, dynamic_sync, sync_matrix, sync_network, sync_profile

__all__ = [
    "InteractionResult",
    "RegimeResult",
    "causality_matrix",
    "detect_change_points",
    "detect_regimes",
    "dynamic_sync",
    "interaction_effects",
    "multiscale_features",
    "scale_breaks",
    "sync_matrix",
    "sync_network",
    "sync_profile",
]
