"""The kinds of interaction effect, defined once: the source's feature whose effect is measured.

:func:`~sklearn_lambda3.analysis.interaction_effects` regresses a target on a source's
structural features; each kind names one of them (its column suffix in ``_columns``), with the
symbol the figures print and the words the report writes.
"""

from ._columns import JUMP_NEG, JUMP_POS, TENSION

JUMP_KINDS = ("jump_pos", "jump_neg")
TENSION_KIND = "tension"
# In the order of the structural feature columns (_columns.STRUCTURAL_SUFFIXES).
KINDS = (*JUMP_KINDS, TENSION_KIND)

KIND_SUFFIXES = {"jump_pos": JUMP_POS, "jump_neg": JUMP_NEG, "tension": TENSION}
KIND_SYMBOLS = {"jump_pos": "ΔΛC⁺", "jump_neg": "ΔΛC⁻", "tension": "ρT"}
# The subject of a sentence "<words> <source> raises <target> ...".
KIND_WORDS = {
    "jump_pos": f"an upward jump ({KIND_SYMBOLS['jump_pos']}) of",
    "jump_neg": f"a downward jump ({KIND_SYMBOLS['jump_neg']}) of",
    "tension": f"each unit of tension ({KIND_SYMBOLS['tension']}) of",
}
