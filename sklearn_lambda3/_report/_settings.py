"""The report's settings, defined once for the stages, the summary, the text and the figures."""

# Largest lag of the synchronisation analysis and of its figures (clipped to the series' length).
LAG_WINDOW = 10
# Regimes of the focus series, unless the command line says otherwise.
N_REGIMES = 3
# How many entries of a ranked list (sync pairs, causal pairs, effects, drivers) the report shows.
TOP_N = 5
# Ordered pairs given the Bayesian interaction analysis by default: every pair of a 6-series file.
MAX_PAIRS = 30
INTERACTION_COVERAGE = 0.9
# Twice interaction_effects' default draws: with 500 per chain a few per cent of the pairs exceed
# R-hat 1.01 by the estimator's own noise (3 of 30 on the Tokyo file).
INTERACTION_SETTINGS = {"num_warmup": 1000, "num_samples": 1000, "num_chains": 4}
