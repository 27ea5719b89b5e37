"""Customer-facing messages in the customer's language (templates in bot/i18n)."""

from __future__ import annotations

from typing import Any

from bot import i18n
from bot.domain.durations import humanize
from bot.domain.model import Customer, Ticket
from bot.services import sla_texts
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork


def customer_language(customer: Customer | None, core: Core) -> str:
    """The customer's platform locale, else their settings profile's, else the default."""
    cfg = core.policy.automation
    profile = cfg.profile(customer.email if customer else None)
    locale = (customer.locale if customer else None) or (profile.locale if profile else None)
    return i18n.language(locale, cfg.default_locale)


async def ticket_language(ticket: Ticket, uow: UnitOfWork, core: Core) -> str:
    return customer_language(await uow.customers.get(ticket.customer_id), core)


def wait_text(lang: str, core: Core, ticket: Ticket | None = None) -> str:
    """Expected first response: the ticket's SLA policy target (issue 6), else the setting."""
    wait = sla_texts.first_response_wait(ticket, core) if ticket else None
    if wait is None:
        if lang == i18n.FALLBACK:
            return core.policy.first_response_text
        return i18n.duration(core.policy.automation.first_response, lang)
    return humanize(wait) if lang == i18n.FALLBACK else i18n.duration(wait, lang)


def ack(
    ticket: Ticket, customer: Customer | None, core: Core, articles: list[Any]
) -> tuple[str, dict[str, Any]]:
    """The acknowledgement of a new ticket, with suggested articles when there are any."""
    lang = customer_language(customer, core)
    resume = sla_texts.answers_resume(ticket, core, ticket.created_at, lang)
    text = i18n.text(
        "off_hours" if resume else "ack",  # outside business hours: say when answers resume
        lang,
        name=customer.name if customer else "there",
        ref=ticket.ref,
        subject=ticket.subject,
        wait=wait_text(lang, core, ticket),
        resume=resume,
    )
    payload: dict[str, Any] = {}
    if articles:
        lines = "\n".join(i18n.text("article_line", lang, title=a.title) for a in articles)
        text += i18n.text("ack_articles", lang, articles=lines)
        payload = {
            "articles": [{"id": a.id, "title": a.title, "slug": a.slug} for a in articles],
            "buttons": [
                {
                    "label": i18n.text("button_solved", lang),
                    "command": f"solved {ticket.ref}",
                    "style": "primary",
                }
            ],
        }
    return text, payload
