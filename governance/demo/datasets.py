"""The demo's data: German credit (governance/demo/data/, see SOURCES.md there) and its columns."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CREDIT_NUMERIC = ["credit_amount", "duration", "age"]
CREDIT_CATEGORICAL = ["sex", "job", "housing", "saving_accounts", "checking_account", "purpose"]
