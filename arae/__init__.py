"""ARAE reproducibility suite: data, models, training, metrics for Zhao et al. (ICML 2018)."""
__version__ = "0.1.0"

# A label for people, recorded in every run.json: bump it with a change of results worth naming. It is not
# what keeps old runs from being reused: the code fingerprint (arae/fingerprint.py) is, automatically.
CODE_VERSION = 4
