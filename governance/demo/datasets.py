"""The demo's data (governance/demo/data/, see SOURCES.md there) and its columns: German credit,
the small-data case, and UCI Adult, large enough for fairness verdicts to decide."""

from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
CREDIT_NUMERIC = ["credit_amount", "duration", "age"]
CREDIT_CATEGORICAL = ["sex", "job", "housing", "saving_accounts", "checking_account", "purpose"]

ADULT_DIR = DATA_DIR / "adult"
# The columns in the order adult.names documents them; the last is the label.
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
]
ADULT_LABEL = "income"
ADULT_CLASSES = ["<=50K", ">50K"]  # the second is the favourable outcome, as the fairness kind reads it
# fnlwgt is the census's sampling weight (how many people a row stands for), not something about
# the person, and education is education-num spelled out, so neither is a model input.
ADULT_NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
ADULT_CATEGORICAL = ["workclass", "marital-status", "occupation", "relationship", "race", "sex", "native-country"]
ADULT_SENSITIVE = ["sex", "race", "age"]  # age is binned by the fairness kind's DEFAULT_AGE_BINS


def adult_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """UCI Adult as shipped: (adult.data, adult.test), 32,561 and 16,281 rows.

    The files have no header and a space after each comma; adult.test opens with the line
    "|1x3 Cross validator" and ends its labels with a full stop (">50K."), which is dropped
    so both splits share the labels in ``ADULT_CLASSES``. Missing values ("?", in workclass,
    occupation and native-country) are read as missing.
    """

    def read(name: str, skiprows: int) -> pd.DataFrame:
        frame = pd.read_csv(ADULT_DIR / name, header=None, names=ADULT_COLUMNS, skiprows=skiprows,
                            skipinitialspace=True, na_values="?", skip_blank_lines=True)
        frame[ADULT_LABEL] = frame[ADULT_LABEL].str.rstrip(".")
        return frame

    return read("adult.data", 0), read("adult.test", 1)
