"""The drift review's default rule where it decides the verdict: pure constants, no imports, so
that the kind (audits/kinds/drift/kind.py) can refuse a request weaker than them when it is made,
without the web process loading the probe's scipy and pandas."""

DEFAULT_ALPHA = 0.01  # the review's error budget, shared by its checks
MIN_BATCH_ROWS = 50  # a smaller batch is insufficient data
MIN_GROUP_COUNT = 30  # a fairness gap over smaller groups is insufficient data
ESTIMATE_BOOTSTRAP = 100  # resamples of the label-free accuracy estimate's interval
