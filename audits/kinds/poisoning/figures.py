"""The poisoning audit's chart: backdoor success and clean accuracy by poisoning rate."""

from __future__ import annotations

from governance.core.charts import line_chart


def poisoning_rate_chart(results: dict) -> str:
    s = results.get("susceptibility") or {}
    rows = s.get("backdoor") or []
    if not rows:
        return ""
    base = s.get("baseline") or {}
    series = [
        {"name": "Attack success rate", "points": [(0.0, base.get("attack_success_rate"))]
         + [(r["rate"], r["attack_success_rate"]) for r in rows]},
        {"name": "Clean accuracy", "points": [(0.0, base.get("clean_accuracy"))]
         + [(r["rate"], r["clean_accuracy"]) for r in rows]},
    ]
    return line_chart(series, title="Backdoor success and clean accuracy by poisoning rate",
                      x_label="Share of training rows poisoned", y_label="Rate", y_range=(0, 1))


def poisoning_figures(results: dict) -> list[dict]:
    svg = poisoning_rate_chart(results)
    return [{"feature": "rates", "svg": svg, "caption": "After retraining with the version's own recipe on backdoored "
             "copies (rate 0 is the clean retrain): a model that keeps its clean accuracy while the attack succeeds "
             "hides its backdoor."}] if svg else []
