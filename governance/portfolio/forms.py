"""The portfolio's filters. A value the page does not offer is ignored, not refused: an old
bookmark still shows the portfolio, unfiltered on that field."""

from __future__ import annotations

from django import forms

from governance.portfolio.selectors import GATE_FILTERS, PORTFOLIO_SORTS
from governance.registry.models import LifecycleStage, RiskTier

PAGE_SIZES = {"50": 50, "200": 200, "all": None}


def _choices(values) -> list[tuple[str, str]]:
    return [("", "")] + [(v, v) for v in values]


class PortfolioFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    tier = forms.ChoiceField(required=False, choices=_choices(RiskTier.values))
    stage = forms.ChoiceField(required=False, choices=_choices(LifecycleStage.values))
    gate = forms.ChoiceField(required=False, choices=_choices(GATE_FILTERS))
    attention = forms.BooleanField(required=False)
    sort = forms.ChoiceField(required=False, choices=_choices(PORTFOLIO_SORTS))
    size = forms.ChoiceField(required=False, choices=_choices(PAGE_SIZES))

    def filters(self) -> dict:
        """The selector's arguments from the valid fields; an invalid one falls back to its default."""
        self.is_valid()
        data = self.cleaned_data
        return {"search": data.get("q", ""), "risk_tier": data.get("tier", ""), "stage": data.get("stage", ""),
                "gate": data.get("gate", ""), "attention": data.get("attention", False),
                "sort": data.get("sort") or "name"}

    def page_size(self) -> str:
        return self.cleaned_data.get("size") or "50"
