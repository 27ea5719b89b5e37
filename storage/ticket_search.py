"""The conditions of `list`/`search`: filters and free text over subjects and messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, cast, func, or_, select

from storage import tables as t


def search_conditions(
    *,
    statuses: Sequence[str] = (),
    priorities: Sequence[str] = (),
    queues: Sequence[str] = (),
    tags: Sequence[str] = (),
    assignee_id: int | None = None,
    unassigned: bool = False,
    customer_ids: Sequence[int] = (),
    text: str | None = None,
) -> list[Any]:
    """WHERE conditions on `tickets` (all must hold) for the given filters."""
    conds: list[Any] = []
    if statuses:
        conds.append(t.tickets.c.status.in_(list(statuses)))
    if priorities:
        conds.append(t.tickets.c.priority.in_(list(priorities)))
    if queues:
        conds.append(t.tickets.c.queue.in_(list(queues)))
    if assignee_id is not None:
        conds.append(t.tickets.c.assignee_id == assignee_id)
    if unassigned:
        conds.append(t.tickets.c.assignee_id.is_(None))
    if customer_ids:
        conds.append(t.tickets.c.customer_id.in_(list(customer_ids)))
    for tag in tags:
        # JSON arrays are stored as text on both databases; match the quoted element, as
        # written now (raw UTF-8) and as json.dumps wrote it before (non-ASCII as \u escapes)
        spellings = dict.fromkeys((f'"{tag}"', json.dumps(tag)))
        text_tags = cast(t.tickets.c.tags, Text)
        conds.append(or_(*(text_tags.like(f"%{_literal(s)}%", escape="\\") for s in spellings)))
    if text:
        pattern = f"%{text.lower()}%"
        in_messages = (
            select(t.messages.c.ticket_id)
            .where(func.lower(t.messages.c.text).like(pattern))
            .where(t.messages.c.visibility != "system")
        )
        conds.append(
            or_(func.lower(t.tickets.c.subject).like(pattern), t.tickets.c.id.in_(in_messages))
        )
    return conds


def _literal(value: str) -> str:
    """`value` matched as itself inside a LIKE pattern (escape character: backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
