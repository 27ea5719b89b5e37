"""What the SLA engine tells people: expected wait, when answers resume, due times for agents."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.domain.calendar import NoBusinessTimeError
from bot.domain.model import Ticket
from bot.services.context import Core
from bot.services.sla_config import ALWAYS

TARGET_LABEL = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}


# English names, as strftime's %a and %b give them in the C locale (deskbot sets no locale);
# spelled out because strftime cost most of an SLA notice (a sweep writes hundreds).
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(value: datetime, tz: str = "UTC") -> str:
    """Local wall time with the zone's name, e.g. `Mon 2 Mar 09:00 Europe/Zagreb`."""
    local = value.astimezone(ZoneInfo(tz))
    day, month = _DAYS[local.weekday()], _MONTHS[local.month - 1]
    return f"{day} {local.day} {month} {local.hour:02d}:{local.minute:02d} {tz}"


def first_response_wait(ticket: Ticket, core: Core) -> timedelta | None:
    """The first-response target of the ticket's policy (None: the policy sets none)."""
    cfg = core.policy.sla
    policy = cfg.named(ticket.sla_policy) or cfg.fallback
    return policy.targets.first_response


def answers_resume(ticket: Ticket, core: Core, at: datetime, lang: str = "en") -> str | None:
    """Outside the ticket's business hours: when they start again, in the customer's language
    and the calendar's time zone ("Tuesday 7 April, 09:00 (Europe/Zagreb)"); else None."""
    cfg = core.policy.sla
    policy = cfg.named(ticket.sla_policy) or cfg.fallback
    calendar = cfg.calendar_for(policy, ticket.queue)
    if calendar.name == ALWAYS or calendar.is_open(at):
        return None
    try:
        opens = calendar.next_open(at)
    except NoBusinessTimeError:
        return None
    local = format_datetime(opens, "EEEE d MMMM, HH:mm", tzinfo=ZoneInfo(calendar.tz), locale=lang)
    return f"{local} ({calendar.tz})"
