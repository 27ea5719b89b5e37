"""Deterministic help-desk data for bench/report.py: tickets over a year, messages, history.

The same seed gives the same rows on SQLite and PostgreSQL, so the two databases must also
produce the same report. Rows are written in bulk: executemany through stdlib sqlite3 on
SQLite, COPY (asyncpg) on PostgreSQL.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.rows import wall_seconds

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=365)
AGENTS = 50
CUSTOMERS = 100_000
QUEUES = ("general", "billing", "tech", "sales", "vip", "abuse")
ORIGINS = (("slack", 50), ("email", 30), ("discord", 15), ("console", 5))
PRIORITIES = (("low", 15), ("normal", 60), ("high", 20), ("urgent", 5))
TAGS = tuple(f"tag{i:02d}" for i in range(20))
FR_TARGET = 4 * 3600
CHUNK = 20_000

TICKET_COLS = (
    "id", "subject", "status", "priority", "queue", "customer_id", "assignee_id", "tags",
    "origin", "conversation_key", "created_at", "updated_at", "first_response_at",
    "resolved_at", "closed_at", "sla_policy", "first_response_due", "first_response_secs",
    "resolution_secs", "version", "first_response_wall_secs", "resolution_wall_secs",
    "sla_due_at",
)  # fmt: skip
MESSAGE_COLS = (
    "ticket_id", "platform", "external_id", "author_kind", "author_id", "author_name",
    "visibility", "text", "created_at",
)  # fmt: skip
HISTORY_COLS = ("ticket_id", "at", "actor", "kind", "old", "new")
RATING_COLS = ("ticket_id", "customer_id", "survey_sent_at", "score", "rated_at")
TAG_COLS = ("ticket_id", "tag", "created_at")


@dataclass
class Chunk:
    tickets: list[tuple[Any, ...]]
    messages: list[tuple[Any, ...]]
    history: list[tuple[Any, ...]]
    ratings: list[tuple[Any, ...]]
    tags: list[tuple[Any, ...]]


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return math.exp(rng.gauss(math.log(median), sigma))


def chunks(
    tickets: int, messages_per_ticket: float, seed: int = 8, span: timedelta = SPAN
) -> Iterator[Chunk]:
    """All rows, CHUNK tickets at a time, created evenly over `span` up to NOW; ticket ids
    are 1..tickets in creation order."""
    step = span / tickets
    start = NOW - span
    for first in range(1, tickets + 1, CHUNK):
        rng = random.Random(seed * 1_000_003 + first)
        out = Chunk([], [], [], [], [])
        for tid in range(first, min(first + CHUNK, tickets + 1)):
            out_ticket(rng, out, tid, start + step * (tid - 1), messages_per_ticket)
        yield out


def out_ticket(rng: random.Random, out: Chunk, tid: int, created: datetime, mpt: float) -> None:
    created = created.replace(microsecond=rng.randrange(1_000_000))
    age = (NOW - created).total_seconds()
    origin = _pick(rng, ORIGINS)
    agent = rng.randrange(1, AGENTS + 1) if rng.random() > 0.05 else None
    customer = rng.randrange(1, CUSTOMERS + 1)
    tags = rng.sample(TAGS, rng.choice((0, 0, 1, 1, 1, 2)))
    policy = "default" if rng.random() < 0.9 else None
    fr_delay = _lognormal(rng, 3600, 1.2) if rng.random() < 0.97 else math.inf
    fr_at = created + timedelta(seconds=fr_delay) if fr_delay < age else None
    res_delay = max(fr_delay if fr_at else 0, _lognormal(rng, 86400, 1.1)) + 60
    resolved = created + timedelta(seconds=res_delay) if fr_at and res_delay < age else None
    closed = (
        resolved + timedelta(days=4) if resolved and resolved + timedelta(days=4) < NOW else None
    )
    if resolved:
        status = "closed" if closed else "resolved"
    else:
        status = rng.choice(("open", "open", "pending", "on_hold")) if fr_at else "new"
    fr_due = created + timedelta(seconds=FR_TARGET) if policy and not fr_at else None
    out.tickets.append((
        tid, f"bench ticket {tid}", status, _pick(rng, PRIORITIES), rng.choice(QUEUES), customer,
        agent, json.dumps(tags), origin, f"{origin}:c{customer}:{tid}", created,
        closed or resolved or fr_at or created, fr_at, resolved, closed, policy, fr_due,
        int(fr_delay * 0.7) if fr_at else None, int(res_delay * 0.6) if resolved else None, 1,
        wall_seconds(fr_at, created), wall_seconds(resolved, created),
        fr_due,  # sla_due_at: only "new" tickets have a due time, and their clock runs
    ))  # fmt: skip
    out.tags.extend((tid, tag, created) for tag in tags)
    out.history.append((tid, created, "customer", "opened", None, "new"))
    if policy and fr_delay > FR_TARGET and created + timedelta(seconds=FR_TARGET) < NOW:
        at = created + timedelta(seconds=FR_TARGET)
        out.history.append((tid, at, "deskbot", "sla_breached", None, "first_response"))
        if rng.random() < 0.3:
            out.history.append((tid, at, "deskbot", "sla_escalated", None, "notify_leads"))
    if resolved:
        out.history.append((tid, resolved, "agent", "status", "open", "resolved"))
        if rng.random() < 0.03:
            at = resolved - timedelta(seconds=rng.randrange(60, 3600))
            out.history.append((tid, at, "customer", "status", "resolved", "open"))
        if rng.random() < 0.2:
            sent = resolved + timedelta(minutes=1)
            score = (
                rng.choices((1, 2, 3, 4, 5), (5, 5, 10, 30, 50))[0] if rng.random() < 0.45 else None
            )
            rated = sent + timedelta(hours=2) if score else None
            out.ratings.append((tid, customer, sent, score, rated))
    n = max(1, round(rng.uniform(1, 2 * mpt - 1)))
    span = max(60.0, ((resolved or NOW) - created).total_seconds())
    for j in range(n):
        at = created + timedelta(seconds=span * j / n)
        if at > NOW:
            break
        if j % 2 == 0 or agent is None or (j == 1 and not fr_at):
            row = ("customer", customer, "Customer", "public")
        else:
            row = (
                "agent",
                agent,
                f"agent{agent:02d}",
                "internal" if rng.random() < 0.1 else "public",
            )
        out.messages.append(
            (tid, origin, f"b{tid}-{j}", row[0], row[1], row[2], row[3], "…", at)
        )  # fmt: skip


def sqlite_ts(value: Any) -> Any:
    """SQLAlchemy's SQLite storage format for DateTime (UTC, no offset)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value
