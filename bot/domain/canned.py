"""Canned answers: templates with placeholders, checked when saved so nothing sends a blank."""

from __future__ import annotations

import string

from bot.domain.errors import InvalidTemplate

PLACEHOLDERS: dict[str, str] = {
    "customer_name": "the customer's display name",
    "ticket_ref": "the ticket reference, e.g. T-12",
    "agent_name": "the replying agent's name",
    "subject": "the ticket subject",
    "queue": "the ticket's queue",
    "priority": "the ticket's priority",
}


def placeholders_in(template: str) -> list[str]:
    """Names used in `template`; raises InvalidTemplate on broken braces."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidTemplate(f"Broken placeholder braces: {exc}.") from exc
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or spec or conversion:
            raise InvalidTemplate("Placeholders are plain names in braces, like {customer_name}.")
        names.append(name)
    return names


def validate(template: str) -> None:
    """Refuse unknown placeholders at save time, listing the ones that exist."""
    unknown = sorted({n for n in placeholders_in(template) if n not in PLACEHOLDERS})
    if unknown:
        known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
        raise InvalidTemplate(
            f"Unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; use {known}."
        )


def render(template: str, values: dict[str, str]) -> str:
    """Fill a validated template. Missing values are an error, never a silent blank."""
    validate(template)
    missing = [n for n in placeholders_in(template) if n not in values]
    if missing:
        raise InvalidTemplate(f"No value for {', '.join(missing)}.")
    return template.format(**{k: v for k, v in values.items() if k in PLACEHOLDERS})
