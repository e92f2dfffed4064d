"""Every audit that reports per group names a system's groups the same way: age in the same
life-stage bins, other many-valued numbers in quartiles, categories as they are."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.kinds.fairness.probe import default_bins, fairness_audit, group_labels
from audits.kinds.privacy.probe import sensitive_groups
from audits.kinds.robustness.runner import _groups


def test_age_reads_the_same_groups_in_fairness_robustness_and_dp_retraining():
    age = pd.Series([19, 30, 40, 70, 22, 33, 48, 66, 25, 51] * 3, name="age")
    frame = pd.DataFrame({"age": age, "sex": ["f", "m"] * 15})
    y = np.array([0, 1] * 15)
    fairness = {g["group"] for g in fairness_audit(y, y, sensitive_features=frame[["age"]],
                                                    bins=default_bins(["age"]), intervals=False,
                                                    min_slice_count=1)["features"]["age"]["groups"]}
    robustness = set(_groups(frame, ["age"])["age"])
    dp = set(sensitive_groups(frame["age"]))
    assert fairness == robustness == dp == {"[18, 25)", "[25, 35)", "[35, 50)", "[50, 65)", "[65, 120)"}


def test_a_category_keeps_its_names_and_other_numbers_fall_to_quartiles():
    assert list(group_labels(pd.Series(["f", "m", "f"], name="sex"))) == ["f", "m", "f"]
    income = pd.Series(np.arange(100, dtype=float), name="income")
    assert len(set(group_labels(income))) == 4
    assert default_bins(["age", "income"], {"income": [0, 50, 100]}) == {"age": [18, 25, 35, 50, 65, 120],
                                                                        "income": [0, 50, 100]}
