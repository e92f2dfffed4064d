"""Fairness probe: slice metrics, disparities with exact intervals, the
four-fifths screen, a threshold policy check with one error budget per audit,
and a mitigation outlook.

Pure functions, no Django. Binary classification only: labels 0/1, 1 is the
positive ("selected") outcome. Every result is a plain JSON-serialisable
structure (floats, ints, str, lists, dicts; an undefined value is None).

Metric definitions follow fairlearn.metrics (MetricFrame, selection_rate,
true/false_positive_rate, demographic_parity_*, equalized_odds_* with
agg="worst_case"), except that an undefined rate (0/0) is None here instead of
scikit-learn's silent 0.

The package: slices (inputs and groups), counts (sums, rates, disparities), intervals (exact
per-group intervals and the disparity bounds built from them), audit (the report), verdicts (the
policy check), mitigation (the outlook). Import from here.
"""

from audits.kinds.fairness.probe.audit import (  # noqa: F401
    ERR_CONFIDENCE_LEVEL,
    ERR_MIN_SLICE_COUNT,
    ERR_INTERVALS,
    FOUR_FIFTHS_CAVEATS,
    FOUR_FIFTHS_CITATION,
    FOUR_FIFTHS_THRESHOLD,
    INTERVAL_METHOD,
    fairness_audit,
)
from audits.kinds.fairness.probe.counts import (  # noqa: F401
    CELLS,
    ECE,
    ECE_BINS,
    FAIRLEARN_DISPARITIES,
    METRICS,
)
from audits.kinds.fairness.probe.mitigation import (  # noqa: F401
    ACCURACY_TOLERANCE,
    ERR_NO_PREDICT_PROBA,
    MITIGATION_CAVEATS,
    mitigation_outlook,
)
from audits.kinds.fairness.probe.slices import (  # noqa: F401
    CONTINUOUS_MIN_DISTINCT,
    DEFAULT_AGE_BINS,
    ERR_BINS_EDGES,
    ERR_BINS_FEATURE,
    ERR_BINS_NOT_NUMERIC,
    ERR_EMPTY,
    ERR_FEATURES_TYPE,
    ERR_LABELS,
    ERR_LENGTH,
    ERR_NO_FEATURES,
    ERR_NOT_1D,
    ERR_SCORE,
    INTERSECTION_JOIN,
    MISSING_LABEL,
    QUANTILES,
    default_bins,
    group_labels,
)
from audits.kinds.fairness.probe.verdicts import (  # noqa: F401
    DEFAULT_THRESHOLDS,
    ERR_RULE,
    ERR_THRESHOLD_METRIC,
    ERR_THRESHOLD_SPEC,
    ERR_THRESHOLDS_TYPE,
    ERROR_BUDGET_RULE,
    THRESHOLD_METRICS,
    error_budget_words,
    fairness_evaluate,
)
