"""Handlers for the automation commands: rules, articles, ratings, "solved", agent routing data."""

from __future__ import annotations

from typing import Any

from bot import i18n
from bot.domain import automation_commands as ac
from bot.domain.errors import DomainError, Forbidden, IllegalTransition, NotFound
from bot.domain.model import Role
from bot.domain.routing import RuleError, parse_command, parse_rule
from bot.messages import Reply
from bot.services import csat, kb, routing_stage
from bot.services.context import Core
from bot.services.customer_texts import customer_language
from bot.services.ticket_handlers import load
from bot.services.unit_of_work import UnitOfWork

AGENT_FIELDS = ("queues", "skills", "capacity")


async def add_rule(cmd: ac.AddRule, uow: UnitOfWork, core: Core) -> Reply:
    actor = (await core.actor(uow, cmd.actor)).require(Role.ADMIN)
    try:
        data = parse_command(cmd.text)
        rule = parse_rule(data, source="command", tz=core.policy.automation.timezone)
    except RuleError as exc:
        raise DomainError(f"Rule not added: {exc}.") from None
    if any(r.name == rule.name for r in core.policy.automation.rules):
        raise IllegalTransition(
            f"Rule {rule.name} comes from the settings file; pick another name."
        )
    await uow.rules.add(rule.name, {"when": data["when"], "then": data["then"]}, actor.name,
                        core.clock.now())  # fmt: skip
    return Reply(True, f"Rule added: {rule.describe()}")


async def remove_rule(cmd: ac.RemoveRule, uow: UnitOfWork, core: Core) -> Reply:
    (await core.actor(uow, cmd.actor)).require(Role.ADMIN)
    if not await uow.rules.remove(cmd.name):
        raise NotFound(f"No rule called {cmd.name} was added by command.")
    return Reply(True, f"Rule {cmd.name} removed.")


async def reroute_ticket(cmd: ac.RerouteTicket, uow: UnitOfWork, core: Core) -> Reply:
    agent = (await core.actor(uow, cmd.actor)).require(Role.AGENT)
    ticket = await load(uow, core, cmd.ticket_id)
    if ticket.status.value == "closed":
        raise IllegalTransition(f"{ticket.ref} is closed; reopen it before routing it again.")
    done = await routing_stage.reroute(ticket, agent.name, uow, core)
    if done is None:
        return Reply(True, f"No rule matches {ticket.ref}; nothing changed.", ticket=ticket.ref)
    if not done:
        return Reply(True, f"{ticket.ref} already is where the rules put it.", ticket=ticket.ref)
    return Reply(True, f"{ticket.ref} routed again: {', '.join(done)}.", ticket=ticket.ref)


def article_id(text: str) -> int:
    value = text.strip().upper().removeprefix("KB-").removeprefix("#")
    if not value.isdigit():
        raise NotFound(f"{text!r} is not an article number (like KB-3).")
    return int(value)


def parse_article(text: str) -> kb.ArticleDraft:
    """`[internal] Title | Markdown body | tag, tag` (tags optional)."""
    visibility = "public"
    words = text.split(None, 1)
    if words and words[0].lower() in kb.VISIBILITIES:
        visibility, text = words[0].lower(), words[1] if len(words) > 1 else ""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise DomainError("Write it as: /kb add [internal] Title | body text | tag, tag")
    tags = [t.strip() for t in parts[2].split(",") if t.strip()] if len(parts) > 2 else []
    body = "|".join(parts[1:2])
    return kb.ArticleDraft(title=parts[0], body=body, tags=tags, visibility=visibility)


async def add_article(cmd: ac.AddArticle, uow: UnitOfWork, core: Core) -> Reply:
    """Leads publish directly; an agent's article waits as a draft for a lead's approval."""
    actor = await core.actor(uow, cmd.actor)
    agent = actor.require(Role.AGENT)
    draft = parse_article(cmd.text)
    publish = actor.role.at_least(Role.LEAD)
    values = draft.values(agent.name, core.clock.now(), publish=publish)
    base, n = values["slug"], 1
    while await uow.kb.by_slug(values["slug"]) is not None:
        n += 1
        values["slug"] = f"{base}-{n}"
    aid = await uow.kb.add(**values)
    state = "published" if publish else "saved as a draft; a lead publishes it with /kb publish"
    return Reply(True, f"Article KB-{aid} “{draft.title}” {state}.", data={"article": aid})


async def publish_article(cmd: ac.PublishArticle, uow: UnitOfWork, core: Core) -> Reply:
    lead = (await core.actor(uow, cmd.actor)).require(Role.LEAD)
    aid = article_id(cmd.article)
    article = await uow.kb.get(aid)
    if article is None:
        raise NotFound(f"There is no article KB-{aid}.")
    if article.state == "published":
        return Reply(True, f"KB-{aid} is already published.")
    now = core.clock.now()
    await uow.kb.update(aid, state="published", approved_by=lead.name, published_at=now,
                        updated_at=now)  # fmt: skip
    return Reply(True, f"KB-{aid} “{article.title}” is published.")


async def _customer_ticket(cmd: Any, uow: UnitOfWork, core: Core) -> tuple[Any, Any]:
    ticket = await load(uow, core, cmd.ticket_id)
    customer = await uow.customers.by_identity(cmd.actor.platform, cmd.actor.external_id)
    if customer is None or customer.id != ticket.customer_id:
        raise Forbidden(f"{ticket.ref} is not one of your tickets.")
    return ticket, customer


async def rate_ticket(cmd: ac.RateTicket, uow: UnitOfWork, core: Core) -> Reply:
    ticket, customer = await _customer_ticket(cmd, uow, core)
    thanks = await csat.rate(ticket, customer, cmd.score, cmd.comment, uow, core)
    return Reply(True, thanks, ticket.ref)


async def solve_ticket(cmd: ac.SolveTicket, uow: UnitOfWork, core: Core) -> Reply:
    ticket, customer = await _customer_ticket(cmd, uow, core)
    if not await kb.solve(ticket, uow, core):
        if ticket.status.value in ("resolved", "closed"):
            return Reply(True, f"{ticket.ref} is already {ticket.status.value}.", ticket.ref)
        raise IllegalTransition(f"No articles were offered on {ticket.ref}; just reply instead.")
    text = i18n.text("solved_thanks", customer_language(customer, core), ref=ticket.ref)
    return Reply(True, text, ticket.ref)


async def set_agent_field(cmd: ac.SetAgentField, uow: UnitOfWork, core: Core) -> Reply:
    (await core.actor(uow, cmd.actor)).require(Role.ADMIN)
    agent = await uow.agents.find(cmd.actor.platform, cmd.handle)
    if agent is None:
        raise NotFound(f"No agent called {cmd.handle}.")
    value: Any
    if cmd.field == "capacity":
        if not cmd.value.strip().isdigit():
            raise DomainError(
                "Capacity is a number of open tickets, e.g. /agent set bob capacity 8"
            )
        value = int(cmd.value)
    else:
        value = [v for v in cmd.value.replace(",", " ").split() if v]
    await uow.agents.update(agent.id, **{cmd.field: value})
    shown = ", ".join(value) if isinstance(value, list) else value
    return Reply(True, f"{agent.name}'s {cmd.field}: {shown or 'none'}.")


HANDLERS = {
    ac.AddRule: add_rule,
    ac.RemoveRule: remove_rule,
    ac.RerouteTicket: reroute_ticket,
    ac.AddArticle: add_article,
    ac.PublishArticle: publish_article,
    ac.RateTicket: rate_ticket,
    ac.SolveTicket: solve_ticket,
    ac.SetAgentField: set_agent_field,
}


async def apply_people(uow: UnitOfWork, people: list[dict[str, Any]]) -> None:
    """Settings-file `[[people]]` may give `queues`, `skills` and `capacity` for assignment."""
    for person in people:
        values = {k: person[k] for k in AGENT_FIELDS if k in person}
        if values:
            agent = await uow.agents.by_name(str(person["name"]))
            if agent is not None:
                await uow.agents.update(agent.id, **values)
