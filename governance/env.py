"""Read settings from the environment with safe defaults (after healthchecks' hc/settings.py)."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name) or default


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file that NAME_FILE points to (Docker/K8s secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    return os.environ.get(name) or default


def envtable(name: str, default: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """`key:name=number,name=number;key:...` (e.g. reporting periods per jurisdiction) -> {key: {name: number}}."""
    value = os.environ.get(name)
    if not value:
        return default
    table: dict[str, dict[str, int]] = {}
    for part in filter(None, (p.strip() for p in value.split(";"))):
        key, sep, pairs = part.partition(":")
        if not sep or not key.strip():
            raise ImproperlyConfigured(f"{name}: expected key:name=number,... not {part!r}")
        row = table.setdefault(key.strip(), {})
        for pair in filter(None, (p.strip() for p in pairs.split(","))):
            item, eq, number = pair.partition("=")
            if not eq or not number.strip().isdigit():
                raise ImproperlyConfigured(f"{name}: expected name=number in {part!r}, not {pair!r}")
            row[item.strip()] = int(number)
    return table
