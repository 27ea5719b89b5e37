"""Customer satisfaction: a survey on resolve/close, ratings 1–5, and survey answers by reply.

One survey per ticket, at most one per customer per `csat_throttle`. While the survey is open
(the ticket is resolved or closed and the survey is younger than `csat_window`) a reply that is
only a digit 1–5 is a rating and does not reopen the ticket; a rating can be changed within
`csat_window` of the first one.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from typing import Any

from bot import i18n
from bot.domain.automation_events import SurveySent, TicketRated
from bot.domain.errors import DomainError, Forbidden
from bot.domain.model import Customer, Ticket
from bot.domain.status import Status, Visibility
from bot.messages import InboundMessage
from bot.services import kb
from bot.services.context import Core
from bot.services.customer_texts import customer_language
from bot.services.deliveries import Deliveries
from bot.services.unit_of_work import UnitOfWork

DIGIT = re.compile(r"^\s*([1-5])\s*[.!]?\s*$")
SOLVED_WORDS = ("solved", "/solved")
DONE = (Status.RESOLVED, Status.CLOSED)


def survey_open(rating: Any, ticket: Ticket, now: datetime, core: Core) -> bool:
    if rating is None or rating.survey_sent_at is None or ticket.status not in DONE:
        return False
    sent = _aware(rating.survey_sent_at)
    return now - sent <= core.policy.automation.csat_window


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def send_survey(ticket: Ticket, reason: str | None, uow: UnitOfWork, core: Core) -> bool:
    """Ask the customer to rate a resolved/closed ticket, unless throttled or already asked."""
    cfg = core.policy.automation
    if not cfg.csat_enabled or ticket.status not in DONE or reason == kb.SOLVED_REASON:
        return False
    existing = await uow.ratings.get(ticket.id)
    if existing is not None and (existing.survey_sent_at is not None or existing.score):
        return False
    now = core.clock.now()
    last = await uow.ratings.last_survey(ticket.customer_id)
    if last is not None and now - last < cfg.csat_throttle:
        return False
    await uow.ratings.survey_sent(ticket.id, ticket.customer_id, now)
    customer = await uow.customers.get(ticket.customer_id)
    lang = customer_language(customer, core)
    payload = {
        "survey": {"ticket": ticket.ref, "scale": [1, 2, 3, 4, 5]},
        "buttons": [
            {"label": str(n), "command": f"rate {ticket.ref} {n}", "value": str(n)}
            for n in range(1, 6)
        ],
    }
    text = i18n.text("survey", lang, ref=ticket.ref)
    await Deliveries(uow, core).to_customer(ticket, "survey", text, payload=payload)
    ticket._record(SurveySent(ticket.id, "deskbot", now))
    return True


async def rate(
    ticket: Ticket,
    customer: Customer,
    score: int,
    comment: str | None,
    uow: UnitOfWork,
    core: Core,
) -> str:
    """Record a rating (or change it); returns the thank-you text in the customer's language."""
    if ticket.customer_id != customer.id:
        raise Forbidden(f"{ticket.ref} is not one of your tickets.")
    if not 1 <= score <= 5:
        raise DomainError("Ratings go from 1 (poor) to 5 (excellent).")
    now = core.clock.now()
    window = core.policy.automation.csat_window
    existing = await uow.ratings.get(ticket.id)
    if ticket.status not in DONE:
        raise DomainError(f"{ticket.ref} is {ticket.status.value}; rate it once it is resolved.")
    if existing is not None and existing.rated_at is not None:
        if now - _aware(existing.rated_at) > window:
            raise DomainError(f"The rating of {ticket.ref} can no longer be changed.")
    elif existing is None or existing.survey_sent_at is None:
        done_at = ticket.closed_at or ticket.resolved_at
        if done_at is not None and now - done_at > window:
            raise DomainError(f"{ticket.ref} was resolved too long ago to rate it.")
    changed = await uow.ratings.rate(ticket.id, customer.id, score, comment, now)
    ticket._record(TicketRated(ticket.id, customer.name, now, score, comment, changed))
    key = "survey_changed" if changed else "survey_thanks"
    return i18n.text(key, customer_language(customer, core), ref=ticket.ref, score=score)


def _record_message(
    m: InboundMessage,
    ticket: Ticket,
    customer: Customer,
    uow: UnitOfWork,
    now: datetime,
    flag: dict[str, Any],
) -> None:
    uow.messages.add(
        ticket_id=ticket.id, platform=m.platform, external_id=m.message_id,
        author_kind="customer", author_id=customer.id, author_name=customer.name,
        visibility=Visibility.PUBLIC.value, text=m.text, at=now,
        attachments=[asdict(a) for a in m.attachments] or None, flags=flag,
    )  # fmt: skip


async def intercept(
    m: InboundMessage, ticket: Ticket, customer: Customer, uow: UnitOfWork, core: Core
) -> bool:
    """A survey answer or "solved" instead of a message: True when handled here.

    Called by ingest before the reopen rules; anything not handled follows them as usual.
    """
    if ticket.customer_id != customer.id or m.automatic:
        return False
    text = m.text.strip().lower()
    now = core.clock.now()
    out = Deliveries(uow, core)
    if text in SOLVED_WORDS:
        if not await kb.solve(ticket, uow, core):
            return False
        _record_message(m, ticket, customer, uow, now, {"kb": "solved"})
        lang = customer_language(customer, core)
        await out.to_customer(ticket, "system", i18n.text("solved_thanks", lang, ref=ticket.ref))
        return True
    digit = DIGIT.match(text)
    if digit is None or ticket.status not in DONE:
        return False
    if not survey_open(await uow.ratings.get(ticket.id), ticket, now, core):
        return False
    thanks = await rate(ticket, customer, int(digit.group(1)), None, uow, core)
    _record_message(m, ticket, customer, uow, now, {"survey": int(digit.group(1))})
    await out.to_customer(ticket, "system", thanks)
    return True
