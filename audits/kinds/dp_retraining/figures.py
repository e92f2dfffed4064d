"""DP retraining's charts: membership-inference ROC before and after."""

from __future__ import annotations

from audits.kinds.privacy.figures import roc_chart


def dp_figures(results: dict) -> list[dict]:
    mia = (results.get("comparison") or {}).get("membership_inference") or {}
    figures = []
    for when in ("before", "after"):
        attacks = (mia.get(when) or {}).get("attacks")
        if attacks:
            model = "original" if when == "before" else "DP-retrained"
            figures.append({"feature": when, "svg": roc_chart(attacks, title=f"Membership inference ROC, {when} DP"),
                            "caption": f"Membership attacks on the {model} model."})
    return figures
