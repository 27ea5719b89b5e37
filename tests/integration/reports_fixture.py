"""Known data for the report tests: 14 tickets whose figures are worked out by hand below.

Period "2026-03-02..2026-03-08" in Europe/Zagreb (UTC+1): current window
[2026-03-01 23:00Z, 2026-03-08 23:00Z), previous [2026-02-22 23:00Z, 2026-03-01 23:00Z);
the clock stands at 2026-03-11 12:00Z. T1 and T5 are created just after local midnight, on
the previous UTC day, so a report in UTC would put them elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import tables as tb
from storage.rows import wall_seconds

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
PERIOD = "2026-03-02..2026-03-08"
TZ = "Europe/Zagreb"
POLICIES = {"first_response": ["std", "nores"], "resolution": ["std"]}


def z(day: str, hm: str = "08:00") -> datetime:
    """A UTC instant: z("03-02", "08:00") is 2026-03-02 08:00Z."""
    return datetime.fromisoformat(f"2026-{day}T{hm}:00+00:00")


S = timedelta(seconds=1)

# name: created, origin, queue, priority, assignee, tags, status, sla_policy,
#       first_response_at, frt business secs, resolved_at, resolution business secs, closed_at,
#       first_response_due, resolution_due, next_response_due
TICKETS: dict[str, dict[str, Any]] = {
    "T1": dict(created=z("03-01", "23:30"), origin="slack", queue="billing", priority="high",
               assignee="bob", tags=["billing", "refund"], status="closed", sla="std",
               fr=z("03-01", "23:40"), frs=600, res=z("03-02", "01:30"), ress=3600,
               closed=z("03-03")),
    "T2": dict(created=z("03-02", "10:00"), origin="slack", queue="billing", priority="normal",
               assignee="bob", tags=["billing"], status="resolved", sla="std",
               fr=z("03-02", "10:30"), frs=1800, res=z("03-03", "10:00"), ress=20000),
    "T3": dict(created=z("03-03"), origin="email", queue="general", priority="normal",
               assignee="carol", tags=[], status="resolved", sla="std",
               fr=z("03-03", "09:00"), frs=1200, res=z("03-03", "11:00"), ress=5000),
    "T4": dict(created=z("03-04"), origin="email", queue="general", priority="urgent",
               assignee="carol", tags=["login"], status="open", sla="std",
               fr=z("03-04", "10:00"), frs=7200, res_due=z("03-06"), nr_due=z("03-12")),
    "T5": dict(created=z("03-04", "23:30"), origin="discord", queue="general", priority="low",
               tags=["login"], status="new", sla="std", fr_due=z("03-12"), res_due=z("03-20")),
    "T6": dict(created=z("03-06"), origin="slack", queue="billing", priority="normal",
               assignee="bob", tags=["refund"], status="resolved", sla="nores",
               fr=z("03-06", "08:05"), frs=300, res=z("03-07", "09:00"), ress=3000),
    "T7": dict(created=z("03-07"), origin="slack", queue="billing", priority="normal", tags=[],
               status="merged", sla="std"),
    "T8": dict(created=z("03-08"), origin="email", queue="general", priority="normal",
               assignee="carol", tags=[], status="pending", sla=None,
               fr=z("03-08", "09:30"), frs=5400),
    "T9": dict(created=z("02-23"), origin="slack", queue="billing", priority="normal",
               assignee="bob", tags=["billing"], status="closed", sla="std",
               fr=z("02-23", "08:20"), frs=1200, res=z("02-23", "09:00"), ress=3600,
               closed=z("02-25")),
    "T10": dict(created=z("02-24"), origin="email", queue="general", priority="normal",
                assignee="carol", tags=[], status="resolved", sla="std",
                fr=z("02-24", "08:10"), frs=600, res=z("03-03"), ress=200000),
    "T11": dict(created=z("02-25"), origin="slack", queue="general", priority="high",
                assignee="bob", tags=[], status="open", sla="std",
                fr=z("03-02"), frs=100000, nr_due=z("03-10")),
    "T12": dict(created=z("02-26"), origin="discord", queue="billing", priority="normal",
                tags=["refund"], status="new", sla="nores", fr_due=z("02-26", "12:00")),
    "T13": dict(created=datetime(2026, 1, 10, 8, tzinfo=UTC), origin="email", queue="general",
                priority="normal", assignee="carol", tags=[], status="on_hold", sla="std",
                fr=datetime(2026, 1, 10, 9, tzinfo=UTC), frs=3600),
    "T14": dict(created=z("02-20"), origin="slack", queue="general", priority="normal",
                assignee="bob", tags=[], status="resolved", sla="std",
                fr=z("02-20", "09:00"), frs=3600, res=z("03-04"), ress=500000),
}  # fmt: skip

# (ticket, author: "cust" | agent name, visibility, seconds after creation or an instant)
MESSAGES: list[tuple[str, str, str, Any]] = [
    ("T1", "cust", "public", 0), ("T1", "bob", "public", 600), ("T1", "cust", "public", 700),
    ("T2", "cust", "public", 0), ("T2", "bob", "public", 1800),
    ("T3", "cust", "public", 0), ("T3", "carol", "public", 3600), ("T3", "cust", "public", 4000),
    ("T3", "carol", "public", 5000),
    ("T4", "cust", "public", 0), ("T4", "carol", "public", 7200),
    ("T4", "carol", "internal", 7300),
    ("T5", "cust", "public", 0),
    ("T6", "cust", "public", 0), ("T6", "bob", "public", 300), ("T6", "cust", "public", 86400),
    ("T6", "bob", "public", 88000),
    ("T7", "cust", "public", 0),
    ("T8", "cust", "public", 0), ("T8", "carol", "public", 5400),
    ("T9", "cust", "public", 0), ("T9", "bob", "public", 1200),
    ("T10", "cust", "public", 0), ("T10", "carol", "public", 600), ("T10", "cust", "public", 700),
    ("T11", "cust", "public", 0), ("T11", "bob", "public", z("03-02")),
    ("T12", "cust", "public", 0),
    ("T13", "cust", "public", 0), ("T13", "carol", "public", 3600),
    ("T14", "cust", "public", 0), ("T14", "bob", "public", 3600),
]  # fmt: skip

# (ticket, kind, old, new, at)
HISTORY: list[tuple[str, str, str | None, str | None, datetime]] = [
    ("T2", "sla_breached", None, "resolution", z("03-02", "18:00")),
    ("T3", "sla_breached", None, "first_response", z("03-03", "08:30")),
    ("T3", "sla_escalated", None, "notify_leads", z("03-03", "09:00")),
    ("T4", "sla_escalated", None, "notify_leads", z("03-06", "09:00")),
    ("T6", "status", "resolved", "open", z("03-07")),
    ("T10", "sla_breached", None, "resolution", z("02-26")),
    ("T11", "sla_breached", None, "first_response", z("02-25", "12:00")),
    ("T11", "sla_escalated", None, "notify_leads", z("02-25", "13:00")),
    # next response: T3 breached (recorded), T4 waiting (due 03-12, after NOW), T6 met (bob
    # answered the customer's second message in time); T7 is merged, so its breach does not
    # count; before: T9 breached (recorded), T11 overdue (due 03-10)
    ("T3", "sla_breached", None, "next_response", z("03-03", "10:30")),
    ("T6", "sla_met", None, "next_response", z("03-07", "08:26")),
    ("T7", "sla_breached", None, "next_response", z("03-07", "10:00")),
    ("T9", "sla_breached", None, "next_response", z("02-23", "08:50")),
]

# (ticket, survey sent, score, rated at)
RATINGS: list[tuple[str, datetime, int | None, datetime | None]] = [
    ("T1", z("03-03"), 5, z("03-03", "12:00")),
    ("T2", z("03-03", "10:00"), 3, z("03-04")),
    ("T3", z("03-03", "11:00"), None, None),
    ("T9", z("02-25"), 4, z("02-25", "10:00")),
]


def row_resolved(t: dict[str, Any]) -> datetime | None:
    return t.get("res") or t.get("closed")


async def load(
    engine: AsyncEngine, agents: dict[str, int], *, ratings: bool = True
) -> dict[str, int]:
    """Insert the data; returns ticket name → id. `agents` maps bob/carol to their ids."""
    ids: dict[str, int] = {}
    async with engine.begin() as conn:
        customer = (
            await conn.execute(
                insert(tb.customers)
                .values(name="Cy", created_at=z("01-01"))
                .returning(tb.customers.c.id)
            )
        ).scalar_one()
        for name, t in TICKETS.items():
            row = {
                "subject": f"ticket {name}", "status": t["status"], "priority": t["priority"],
                "queue": t["queue"], "customer_id": customer,
                "assignee_id": agents[t["assignee"]] if t.get("assignee") else None,
                "tags": t["tags"], "origin": t["origin"],
                "conversation_key": f"{t['origin']}:c:{name}", "created_at": t["created"],
                "updated_at": t["created"], "first_response_at": t.get("fr"),
                "resolved_at": row_resolved(t), "closed_at": t.get("closed"),
                "sla_policy": t.get("sla"), "first_response_secs": t.get("frs"),
                "resolution_secs": t.get("ress"), "first_response_due": t.get("fr_due"),
                "resolution_due": t.get("res_due"), "next_response_due": t.get("nr_due"),
                # what the ticket repository derives when it writes a ticket (storage/rows.py)
                "first_response_wall_secs": wall_seconds(t.get("fr"), t["created"]),
                "resolution_wall_secs": wall_seconds(row_resolved(t), t["created"]),
            }  # fmt: skip
            ids[name] = (
                await conn.execute(insert(tb.tickets).values(**row).returning(tb.tickets.c.id))
            ).scalar_one()
            for tag in t["tags"]:  # and the tag rows it keeps beside the ticket
                await conn.execute(
                    insert(tb.ticket_tags).values(
                        ticket_id=ids[name], tag=tag, created_at=t["created"]
                    )
                )
        for i, (name, author, visibility, when) in enumerate(MESSAGES):
            at = when if isinstance(when, datetime) else TICKETS[name]["created"] + when * S
            agent = author != "cust"
            await conn.execute(
                insert(tb.messages).values(
                    ticket_id=ids[name], platform="test", external_id=f"m{i}",
                    author_kind="agent" if agent else "customer",
                    author_id=agents[author] if agent else customer,
                    author_name=author, visibility=visibility, text="…", created_at=at,
                )
            )  # fmt: skip
        for name, kind, old, new, at in HISTORY:
            await conn.execute(
                insert(tb.history).values(
                    ticket_id=ids[name], at=at, actor="deskbot", kind=kind, old=old, new=new
                )
            )
        if ratings:
            for name, sent, score, rated in RATINGS:
                await conn.execute(
                    insert(tb.ratings).values(
                        ticket_id=ids[name], customer_id=customer, survey_sent_at=sent,
                        score=score, rated_at=rated,
                    )
                )  # fmt: skip
    return ids
