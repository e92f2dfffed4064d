"""Every audit parameter's type and bounds, and the rule that the policy sets the verdict's.

Each kind declares a table, `AuditKind.params`: {name: Param}. `params_resolve` (pure: no
database, no Django) checks a request against it before anything is written, and merges

    the kind's defaults  <-  the policy's params for the system's tier  <-  the request

A parameter with a `thorough` direction decides the verdict (bootstrap size, confidence level,
minimum counts, attack budgets): when the policy sets it, a request may ask for more
thoroughness, never less, and a request for less is refused with the policy's name and its
value. "fixed" ones (a minimum group count: raising it hides small groups, lowering it judges
noise) may only repeat the policy's value. Parameters without a direction are free within
their bounds (seeds, batch sizes, what to draw). Every number has an upper bound, so that no
request can buy unbounded work (`n_bootstrap: 10**12` is a 400, not a worker busy for ever).

The table of every kind's bounds is docs/audit-parameters.md, written from these tables
(`params_table_markdown`); a test keeps it current.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from governance.core.exceptions import ApplicationError

# Directions of thoroughness.
MORE = "more"  # a larger number is more thorough (bootstrap size, attack steps, rows)
LESS = "less"  # a smaller number is more thorough (an error budget, a tolerated drop)
TRUE = "true"  # on is more thorough (intervals, the detector's validation)
SUPERSET = "superset"  # a list must keep every value the policy lists (attack budgets, attacks)
FIXED = "fixed"  # the policy's value only

# The key of a run's stored params that says which of them its policy set: {"policy": name, "params": [...]}.
POLICY_KEY = "set_by_policy"
NOT_OBJECT = "params must be a JSON object."
UNKNOWN = "Unknown parameter(s) for {kind}: {names}. Accepted: {accepted}."
WRONG = "params.{name} must be {accepted}; you gave {value}."
FLOOR = "params.{name} must be {bound} under policy '{policy}'; you asked for {value}."
BAD_POLICY = ("Policy '{policy}' sets params.{name} to {value}, which is not {accepted}; a compliance officer must "
              "correct the policy before this audit can be requested.")
MAX_EDGES = 100  # bin edges per feature
MAX_GROUPS = 200  # groups per column of population shares
TEXT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]*")


@dataclass(frozen=True)
class Param:
    type: str  # "int", "float", "bool", "choice", "list", "object", "text"
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the lower bound itself is refused (0 < rate)
    high_open: bool = False
    choices: tuple = ()
    item: Param | None = None  # a list's items
    min_items: int = 0
    max_items: int = 0  # lists and objects
    max_length: int = 0  # text
    nullable: bool = False  # null: the runner's own default (drift: the policy's rule)
    thorough: str | None = None
    doc: str = ""

    def accepted(self) -> str:
        """What a value must be, in words, for the error and the docs table."""
        if self.type in ("int", "float"):
            what = "an integer" if self.type == "int" else "a number"
            if not (self.low_open or self.high_open):
                said = f"{what} from {_number(self.low)} to {_number(self.high)}"
            else:
                low = f"{'above' if self.low_open else 'at least'} {_number(self.low)}"
                high = f"{'below' if self.high_open else 'at most'} {_number(self.high)}"
                said = f"{what} {low} and {high}"
        elif self.type == "bool":
            said = "true or false"
        elif self.type == "choice":
            said = "one of: " + ", ".join(map(str, self.choices))
        elif self.type == "list":
            size = (f"exactly {self.max_items}" if self.min_items == self.max_items else
                    f"{self.min_items} to {self.max_items}" if self.min_items else f"at most {self.max_items}")
            said = f"a list of {size} items, each {self.item.accepted()}"
        elif self.type == "object":
            said = f"an object of at most {self.max_items} entries"
        elif self.type == "bins":
            said = (f"an object of at most {self.max_items} features, each a list of at most {MAX_EDGES} finite "
                    "numbers (bin edges)")
        elif self.type == "shares":
            said = (f"an object of at most {self.max_items} columns, each an object of at most {MAX_GROUPS} "
                    "groups: a share from 0 to 1")
        elif self.type == "label":
            said = f"an integer or a text of at most {self.max_length} characters (a class the model predicts)"
        else:
            said = f"an identifier of at most {self.max_length} letters, digits and . _ : + -"
        return f"null or {said}" if self.nullable else said

    def valid(self, value) -> bool:
        if value is None:
            return self.nullable
        if self.type == "bool":
            return isinstance(value, bool)
        if self.type in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False
            if self.type == "int" and not isinstance(value, int):
                return False
            if not math.isfinite(value):
                return False
            low_ok = value > self.low if self.low_open else value >= self.low
            high_ok = value < self.high if self.high_open else value <= self.high
            return low_ok and high_ok
        if self.type == "choice":
            return isinstance(value, str) and value in self.choices
        if self.type == "list":
            return (isinstance(value, list) and self.min_items <= len(value) <= self.max_items
                    and all(self.item.valid(v) for v in value))
        if self.type == "object":
            return isinstance(value, dict) and len(value) <= self.max_items
        if self.type == "bins":
            return isinstance(value, dict) and len(value) <= self.max_items and all(
                isinstance(edges, list) and len(edges) <= MAX_EDGES and all(_finite(e) for e in edges)
                for edges in value.values())
        if self.type == "shares":
            return isinstance(value, dict) and len(value) <= self.max_items and all(
                isinstance(groups, dict) and len(groups) <= MAX_GROUPS
                and all(_finite(v) and 0 <= v <= 1 for v in groups.values()) for groups in value.values())
        if self.type == "label":
            return (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and len(value) <= self.max_length)
        return isinstance(value, str) and len(value) <= self.max_length and bool(TEXT_PATTERN.fullmatch(value))


def Int(low: int, high: int, *, thorough: str | None = None, nullable: bool = False, doc: str = "") -> Param:  # noqa: N802
    return Param("int", low=low, high=high, thorough=thorough, nullable=nullable, doc=doc)


def Float(low: float, high: float, *, thorough: str | None = None, nullable: bool = False, low_open: bool = False,  # noqa: N802
          high_open: bool = False, doc: str = "") -> Param:
    return Param("float", low=low, high=high, thorough=thorough, nullable=nullable, low_open=low_open,
                 high_open=high_open, doc=doc)


def Bool(*, thorough: str | None = None, doc: str = "") -> Param:  # noqa: N802
    return Param("bool", thorough=thorough, doc=doc)


def Choice(*choices: str, thorough: str | None = None, nullable: bool = False, doc: str = "") -> Param:  # noqa: N802
    return Param("choice", choices=tuple(choices), thorough=thorough, nullable=nullable, doc=doc)


def List(item: Param, *, max_items: int, min_items: int = 0, thorough: str | None = None,  # noqa: N802
         nullable: bool = False, doc: str = "") -> Param:
    return Param("list", item=item, min_items=min_items, max_items=max_items, thorough=thorough, nullable=nullable,
                 doc=doc)


def Object(*, max_items: int, nullable: bool = False, doc: str = "") -> Param:  # noqa: N802
    return Param("object", max_items=max_items, nullable=nullable, doc=doc)


def Text(*, max_length: int = 64, nullable: bool = True, doc: str = "") -> Param:  # noqa: N802
    return Param("text", max_length=max_length, nullable=nullable, doc=doc)


def Bins(*, max_items: int = 20, doc: str = "") -> Param:  # noqa: N802
    return Param("bins", max_items=max_items, doc=doc)


def Shares(*, max_items: int = 20, nullable: bool = True, doc: str = "") -> Param:  # noqa: N802
    return Param("shares", max_items=max_items, nullable=nullable, doc=doc)


def Label(*, nullable: bool = True, doc: str = "") -> Param:  # noqa: N802
    return Param("label", max_length=64, nullable=nullable, doc=doc)


def Seed() -> Param:  # noqa: N802
    return Int(0, 2**32 - 1, doc="Recorded on the run, so it can be repeated.")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _shown(value) -> str:
    """A value as the request wrote it, short enough for a message."""
    import json

    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _floor(name: str, param: Param, value, policy_value) -> str | None:
    """The bound a request breaks by being less thorough than the policy, in words; None when it does not."""
    if param.thorough is None or policy_value is None or value is None:
        return None
    if param.thorough == MORE and value < policy_value:
        return f"at least {_shown(policy_value)}"
    if param.thorough == LESS and value > policy_value:
        return f"at most {_shown(policy_value)}"
    if param.thorough == TRUE and policy_value is True and value is not True:
        return "true"
    if param.thorough == SUPERSET:
        missing = [v for v in policy_value if v not in value]
        if missing:
            return f"a list that includes {_shown(missing)}"
    if param.thorough == FIXED and value != policy_value:
        return f"{_shown(policy_value)} (set by the policy)"
    return None


def params_resolve(*, kind: str, table: dict[str, Param], defaults: dict, request: dict | None,
                   policy_params: dict | None = None, policy_name: str = "",
                   floors: dict | None = None) -> tuple[dict, dict]:
    """(the run's effective params, {name: value} of those the policy set), or ApplicationError
    naming `params.<name>` and what is accepted. Nothing here writes; the caller writes after.
    `floors` are the kind's own, for the parameters the policy leaves to it (not stored)."""
    if request is None:
        request = {}
    if not isinstance(request, dict):
        raise ApplicationError(NOT_OBJECT, field="params")
    unknown = sorted(set(request) - set(table))
    if unknown:
        raise ApplicationError(UNKNOWN.format(kind=kind, names=", ".join(unknown), accepted=", ".join(table)),
                               field="params")
    for name, value in request.items():
        if not table[name].valid(value):
            raise ApplicationError(WRONG.format(name=name, accepted=table[name].accepted(), value=_shown(value)),
                                   field=f"params.{name}")
    policy = {k: v for k, v in (policy_params or {}).items() if k in table}
    for name, value in policy.items():
        if not table[name].valid(value):
            raise ApplicationError(BAD_POLICY.format(policy=policy_name, name=name, value=_shown(value),
                                                     accepted=table[name].accepted()), field=f"params.{name}")
    for name, value in request.items():
        floor = policy.get(name, (floors or {}).get(name))
        bound = _floor(name, table[name], value, floor)
        if bound:
            raise ApplicationError(FLOOR.format(name=name, bound=bound, policy=policy_name, value=_shown(value)),
                                   field=f"params.{name}", extra={"policy": policy_name, "policy_value": floor})
    effective = {**defaults, **policy, **request}
    from_policy = {name: value for name, value in policy.items() if name not in request}
    return effective, from_policy


def params_table_markdown(kinds) -> str:
    """docs/audit-parameters.md: one table of every kind's parameters, their bounds and who decides them."""
    words = {MORE: "more is more thorough; the policy's value is the minimum",
             LESS: "less is more thorough; the policy's value is the maximum",
             TRUE: "on is more thorough; the policy may require it",
             SUPERSET: "must include every value the policy lists",
             FIXED: "decides the verdict: the policy's value only"}
    lines = []
    for kind in kinds:
        lines += [f"## {kind.label} (`{kind.name}`)", "", "| parameter | default | accepted | set by the policy |",
                  "|---|---|---|---|"]
        for name, param in kind.params.items():
            rule = words.get(param.thorough, "free within the bounds")
            doc = f" {param.doc}" if param.doc else ""
            lines.append(f"| `{name}` | `{_shown(kind.defaults.get(name))}` | {param.accepted()} | {rule}.{doc} |")
        lines.append("")
    return "\n".join(lines)


def params_requested(*, defaults: dict, stored: dict) -> dict:
    """What a stored run's request changed: its params less the defaults and those its policy set,
    so that a run asked for again "with the same settings" is judged by today's policy."""
    by_policy = set(((stored or {}).get(POLICY_KEY) or {}).get("params") or ())
    return {k: v for k, v in (stored or {}).items()
            if k != POLICY_KEY and k not in by_policy and (k not in defaults or defaults[k] != v)}


def params_policy_problem(table: dict[str, Param], params) -> str | None:
    """What is wrong with the params a policy states for a kind (the policies admin asks), or None."""
    if not isinstance(params, dict):
        return "params must be an object of parameter: value."
    for name, value in params.items():
        if name not in table:
            return f"params.{name} is not a parameter of this audit; accepted: {', '.join(table)}."
        if not table[name].valid(value):
            return f"params.{name} must be {table[name].accepted()}; the policy gives {_shown(value)}."
    return None
