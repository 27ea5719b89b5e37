"""What the automation commands in the command table run: rules, knowledge base, ratings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain import automation_commands as ac
from bot.domain.model import Role
from bot.domain.routing import Facts, evaluate, parse_rules
from bot.messages import Reply
from bot.services.automation_handlers import article_id
from bot.services.routing_stage import rules_for
from bot.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.gateway import Call

SNIPPET = 300


async def rules_list(call: Call) -> Reply:
    core = call.gateway.core

    async def run(uow: UnitOfWork) -> Reply:
        rules = await rules_for(uow, core)
        stored = [dict(r.definition, name=r.name) for r in await uow.rules.list()]
        _, broken = parse_rules(stored, source="command", tz=core.policy.automation.timezone)
        lines = [f"{n}. {r.describe()}" for n, r in enumerate(rules, 1)] or ["No routing rules."]
        lines += [f"⚠ skipped: {p}" for p in [*core.policy.automation.rule_problems, *broken]]
        return Reply(True, "\n".join(lines))

    return await call.gateway.bus.query(run)


async def rules_test(call: Call) -> Reply:
    """Which rules a new ticket with this text would match, from the caller's platform, now."""
    core = call.gateway.core
    text = call.args["text"].strip().strip("\"“”'")
    conv = call.invocation.conversation
    facts = Facts(
        platform=call.invocation.platform,
        conversation=conv.key if conv else f"{call.invocation.platform}::",
        subject=text.splitlines()[0] if text else "",
        body=text,
        language=core.policy.automation.default_locale,
        at=core.clock.now(),
    )

    async def run(uow: UnitOfWork) -> Reply:
        decision = evaluate(await rules_for(uow, core), facts)
        if decision.empty:
            return Reply(True, "No rule matches.")
        effect = [
            f"queue {decision.queue}" if decision.queue else "",
            f"priority {decision.priority}" if decision.priority else "",
            f"tags {', '.join(decision.tags)}" if decision.tags else "",
            f"SLA {decision.sla}" if decision.sla else "",
            f"assign {decision.assign}" if decision.assign else "",
            f"reply {', '.join(decision.replies)}" if decision.replies else "",
        ]
        result = "; ".join(e for e in effect if e) or "no change"
        return Reply(True, f"Matches: {', '.join(decision.rules)} → {result}.")

    return await call.gateway.bus.query(run)


async def kb_search(call: Call) -> Reply:
    staff = call.role.at_least(Role.AGENT)

    async def run(uow: UnitOfWork) -> Reply:
        found = await uow.kb.search(call.args["text"], limit=5, public_only=not staff)
        if not found:
            return Reply(True, "No articles match.")
        lines = [
            f"KB-{a.id} {a.title}" + (" (internal)" if a.visibility == "internal" else "")
            for a, _ in found
        ]
        return Reply(True, "\n".join(lines), data={"articles": [a.id for a, _ in found]})

    return await call.gateway.bus.query(run)


async def kb_show(call: Call) -> Reply:
    staff = call.role.at_least(Role.AGENT)
    aid = article_id(call.args["article"])

    async def run(uow: UnitOfWork) -> Reply:
        a = await uow.kb.get(aid)
        if a is None or (not staff and (a.visibility != "public" or a.state != "published")):
            return Reply(False, f"There is no article KB-{aid}.")
        tags = f"\ntags: {', '.join(a.tags)}" if a.tags else ""
        meta = f"\n[{a.state} · {a.visibility} · by {a.author}]" if staff else ""
        return Reply(True, f"KB-{a.id} {a.title}{meta}{tags}\n\n{a.body}")

    return await call.gateway.bus.query(run)


async def kb_list(call: Call) -> Reply:
    wanted = (call.args.get("state") or "").lower()

    async def run(uow: UnitOfWork) -> Reply:
        rows = await uow.kb.browse(states=[wanted] if wanted else [])
        if not rows:
            return Reply(True, "No articles.")
        lines = [f"KB-{a.id} [{a.state} · {a.visibility}] {a.title}" for a in rows]
        return Reply(True, "\n".join(lines))

    return await call.gateway.bus.query(run)


async def rate(call: Call) -> Reply:
    tid = await call.require_ticket()
    cmd = ac.RateTicket(call.actor, tid, int(call.args["score"]), call.args.get("comment"))
    return await call.gateway.bus.handle(cmd)


async def solved(call: Call) -> Reply:
    tid = await call.require_ticket()
    return await call.gateway.bus.handle(ac.SolveTicket(call.actor, tid))
