"""The names of the Lambda³ feature columns, defined once for every module that reads them.

:class:`~sklearn_lambda3.Lambda3Features` names its output ``<series>__<suffix>``; the
Bayesian models pick each coefficient's prior by the suffix, and the analysis functions find a
series' features by it.
"""

SEPARATOR = "__"
JUMP_POS = "delta_LambdaC_pos"
JUMP_NEG = "delta_LambdaC_neg"
TENSION = "rho_T"
LOCAL_JUMP = "local_jump"

# Lambda3Features' four columns per series, in output order.
FEATURE_SUFFIXES = (JUMP_POS, JUMP_NEG, TENSION, LOCAL_JUMP)
# The three structural features of the method's interaction and regime analyses (spec §4).
STRUCTURAL_SUFFIXES = (JUMP_POS, JUMP_NEG, TENSION)
# Lambda3MultiScale's two columns per series and window.
MULTISCALE_SUFFIXES = (TENSION, LOCAL_JUMP)

# Name endings that select a coefficient's prior scale.
JUMP_ENDINGS = tuple(SEPARATOR + suffix for suffix in (JUMP_POS, JUMP_NEG, LOCAL_JUMP))
TENSION_ENDING = SEPARATOR + TENSION


def column_kind(name):
    """``"jump"``, ``"tension"`` or ``"other"``: the kind of a regressor by its name's ending."""
    name = str(name)
    if name.endswith(JUMP_ENDINGS):
        return "jump"
    if name.endswith(TENSION_ENDING):
        return "tension"
    return "other"
