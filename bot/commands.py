"""The one command table: every command's name, arguments, role and help, declared once.

Slack sub-commands, Discord app commands, console commands and `/help` are generated from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from bot import automation_runners as auto
from bot.domain import automation_commands as ac
from bot.domain import commands as c
from bot.domain.model import Role
from bot.domain.status import Priority, Status
from bot.messages import Reply

if TYPE_CHECKING:
    from bot.gateway import Call

Runner = Callable[["Call"], Awaitable[Reply]]


@dataclass(frozen=True)
class Arg:
    """One argument. `text` takes the rest of the line; `ref` is a ticket reference."""

    name: str
    kind: str = "word"
    optional: bool = False
    choices: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        label = "|".join(self.choices) if self.choices else self.name
        return f"[{label}]" if self.optional else f"<{label}>"


@dataclass(frozen=True)
class CommandSpec:
    """A command. `ticket` says whether it acts on a ticket: from a leading ref or the context."""

    name: str
    help: str
    role: Role
    run: Runner
    args: tuple[Arg, ...] = ()
    ticket: bool = False
    group: str = "tickets"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def usage(self) -> str:
        ref = " [T-n]" if self.ticket else ""
        args = "".join(" " + a.usage for a in self.args)
        return f"/{self.name}{ref}{args}"


def _bus(cmd_factory: Callable[[Call], c.Command]) -> Runner:
    async def run(call: Call) -> Reply:
        if call.spec.ticket:
            await call.require_ticket()
        return await call.gateway.bus.handle(cmd_factory(call))

    return run


async def _help(call: Call) -> Reply:
    return Reply(True, call.gateway.help_text(call.role, call.args.get("command")))


async def _status(call: Call) -> Reply:
    value = call.args.get("value")
    if value and value.lower().replace("-", "_") in {s.value for s in Status}:
        if not call.role.at_least(Role.AGENT):
            return Reply(
                False,
                "Sorry, only agents can change a ticket's status. "
                "Use /status to see yours, or /close to close it.",
            )
        tid = await call.require_ticket()
        status = value.lower().replace("-", "_")
        return await call.gateway.bus.handle(
            c.ChangeStatus(call.actor, tid, status, call.args.get("reason"))
        )
    if value:
        tid = call.gateway.core.ticket_id(value)
    else:
        tid = await call.require_ticket()
    return await call.query("customer_status", tid)


async def _close(call: Call) -> Reply:
    tid = await call.require_ticket()
    if call.role.at_least(Role.AGENT):
        return await call.gateway.bus.handle(
            c.ChangeStatus(call.actor, tid, Status.CLOSED.value, call.args.get("reason"))
        )
    return await call.gateway.bus.handle(c.CustomerCloseTicket(call.actor, tid))


async def _canned_use(call: Call) -> Reply:
    return await call.gateway.bus.handle(
        c.ReplyToTicket(
            call.actor,
            await call.require_ticket(),
            "",
            call.conversation_key,
            canned=call.args["name"],
        )
    )


async def _canned_list(call: Call) -> Reply:
    return await call.query("canned_list", None)


async def _snooze(call: Call) -> Reply:
    from bot.services.timers import parse_until

    tid = await call.require_ticket()
    core = call.gateway.core
    until = parse_until(call.args["until"], core.clock.now(), core.policy.sla.timezone)
    return await call.gateway.bus.handle(c.SnoozeTicket(call.actor, tid, until))


async def _sla_show(call: Call) -> Reply:
    from bot.services import sla_admin

    cfg = call.gateway.core.policy.sla

    async def run(uow: Any) -> Reply:
        cfg.apply_overrides(await uow.sla_policies.list())
        return sla_admin.show(cfg)

    return await call.gateway.bus.query(run)


async def _report(call: Call) -> Reply:
    # Imported on first use: rendering charts pulls in matplotlib, which start-up doesn't need.
    from bot.reports.runner import report_command

    return await report_command(call)


def _q(name: str, needs_ticket: bool = True) -> Runner:
    async def run(call: Call) -> Reply:
        tid = await call.require_ticket() if needs_ticket else None
        return await call.query(name, tid)

    return run


A, L, AD, CU = Role.AGENT, Role.LEAD, Role.ADMIN, Role.CUSTOMER
PRIORITIES = tuple(p.value for p in Priority)
ROLES = ("agent", "lead", "admin")
SCORES = ("1", "2", "3", "4", "5")
SLA_KEYS = (
    "first_response", "next_response", "resolution", "calendar", "warn_at", "match", "escalate",
    "position",
)  # fmt: skip

TABLE: tuple[CommandSpec, ...] = (
    CommandSpec(
        "help",
        "Show the commands you can use",
        CU,
        _help,
        (Arg("command", optional=True),),
        group="general",
    ),
    CommandSpec(
        "new", "Open a new ticket", CU, _q("new", False), (Arg("subject", "text"),), group="general"
    ),
    CommandSpec("mytickets", "List your tickets", CU, _q("mytickets", False), group="general"),
    CommandSpec(
        "status",
        "See a ticket's status; agents: set it",
        CU,
        _status,
        (Arg("value", optional=True), Arg("reason", "text", optional=True)),
        group="general",
    ),
    CommandSpec(
        "close",
        "Close a ticket (customers: resolve your own)",
        CU,
        _close,
        (Arg("reason", "text", optional=True),),
        ticket=True,
        group="general",
    ),
    CommandSpec("show", "Show a ticket with its messages", A, _q("show"), ticket=True),
    CommandSpec(
        "claim",
        "Take a ticket",
        A,
        _bus(lambda k: c.ClaimTicket(k.actor, k.ticket_id)),
        ticket=True,
    ),
    CommandSpec(
        "unclaim",
        "Give a ticket back to its queue",
        A,
        _bus(lambda k: c.UnclaimTicket(k.actor, k.ticket_id)),
        ticket=True,
    ),
    CommandSpec(
        "assign",
        "Assign a ticket to an agent",
        A,
        _bus(lambda k: c.AssignTicket(k.actor, k.ticket_id, k.args["agent"])),
        (Arg("agent", "person"),),
        ticket=True,
    ),
    CommandSpec(
        "transfer",
        "Move a ticket to another queue",
        A,
        _bus(lambda k: c.TransferTicket(k.actor, k.ticket_id, k.args["queue"])),
        (Arg("queue"),),
        ticket=True,
    ),
    CommandSpec(
        "reply",
        "Reply to the customer (public)",
        A,
        _bus(
            lambda k: c.ReplyToTicket(
                k.actor,
                k.ticket_id,
                k.args["text"],
                k.conversation_key,
                attachments=tuple(asdict(a) for a in k.invocation.attachments),
            )
        ),
        (Arg("text", "text"),),
        ticket=True,
        extra={"files": True},  # takes files sent with it (Discord: an attachment option)
    ),
    CommandSpec(
        "note",
        "Add an internal note (never shown to the customer)",
        A,
        _bus(lambda k: c.AddNote(k.actor, k.ticket_id, k.args["text"])),
        (Arg("text", "text"),),
        ticket=True,
    ),
    CommandSpec("canned list", "List canned answers", A, _canned_list, group="canned"),
    CommandSpec(
        "canned add",
        "Save a canned answer ({customer_name}, {ticket_ref}, …)",
        A,
        _bus(lambda k: c.SaveCanned(k.actor, k.args["name"], k.args["text"])),
        (Arg("name"), Arg("text", "text")),
        group="canned",
    ),
    CommandSpec(
        "canned remove",
        "Delete a canned answer",
        A,
        _bus(lambda k: c.RemoveCanned(k.actor, k.args["name"])),
        (Arg("name"),),
        group="canned",
    ),
    CommandSpec(
        "canned use",
        "Reply with a canned answer",
        A,
        _canned_use,
        (Arg("name"),),
        ticket=True,
        group="canned",
    ),
    CommandSpec(
        "snooze",
        "Put a ticket on hold until a time (2h, 3d, 2026-03-05T09:00); it comes back by itself",
        A,
        _snooze,
        (Arg("until"),),
        ticket=True,
    ),
    CommandSpec(
        "priority",
        "Set the priority",
        A,
        _bus(lambda k: c.SetPriority(k.actor, k.ticket_id, k.args["level"])),
        (Arg("level", "choice", choices=PRIORITIES),),
        ticket=True,
    ),
    CommandSpec(
        "tag add",
        "Add a tag",
        A,
        _bus(lambda k: c.ChangeTags(k.actor, k.ticket_id, True, k.args["tag"])),
        (Arg("tag"),),
        ticket=True,
    ),
    CommandSpec(
        "tag remove",
        "Remove a tag",
        A,
        _bus(lambda k: c.ChangeTags(k.actor, k.ticket_id, False, k.args["tag"])),
        (Arg("tag"),),
        ticket=True,
    ),
    CommandSpec(
        "resolve",
        "Mark a ticket resolved",
        A,
        _bus(lambda k: c.ChangeStatus(k.actor, k.ticket_id, "resolved")),
        ticket=True,
    ),
    CommandSpec(
        "reopen",
        "Reopen a ticket",
        A,
        _bus(lambda k: c.ReopenTicket(k.actor, k.ticket_id)),
        ticket=True,
    ),
    CommandSpec(
        "merge",
        "Merge one ticket into another",
        A,
        _bus(lambda k: c.MergeTickets(k.actor, k.args["source"], k.args["target"])),
        (Arg("source", "ref"), Arg("into", "choice", choices=("into",)), Arg("target", "ref")),
    ),
    CommandSpec(
        "link",
        "Link two related tickets",
        A,
        _bus(lambda k: c.LinkTickets(k.actor, k.args["a"], k.args["b"])),
        (Arg("a", "ref"), Arg("b", "ref")),
    ),
    CommandSpec("history", "Show a ticket's audit history", A, _q("history"), ticket=True),
    CommandSpec(
        "list",
        "List tickets (status: priority: queue:|queue:mine tag: assignee:me customer: due:1h)",
        A,
        _q("search", False),
        (Arg("filters", "text", optional=True),),
    ),
    CommandSpec(
        "search",
        "Search tickets by text and filters",
        A,
        _q("search", False),
        (Arg("filters", "text"),),
    ),
    CommandSpec(
        "away",
        "Stop receiving assignments",
        A,
        _bus(lambda k: c.SetAvailability(k.actor, False)),
        group="team",
    ),
    CommandSpec(
        "back",
        "Receive assignments again",
        A,
        _bus(lambda k: c.SetAvailability(k.actor, True)),
        group="team",
    ),
    CommandSpec(
        "agent add",
        "Make someone an agent (admin)",
        AD,
        _bus(lambda k: c.AddAgent(k.actor, k.args["person"], k.args.get("role") or "agent")),
        (Arg("person", "person"), Arg("role", "choice", optional=True, choices=ROLES)),
        group="admin",
    ),
    CommandSpec(
        "agent remove",
        "Remove an agent (admin)",
        AD,
        _bus(lambda k: c.RemoveAgent(k.actor, k.args["person"])),
        (Arg("person", "person"),),
        group="admin",
    ),
    CommandSpec(
        "role",
        "Set an agent's role (admin)",
        AD,
        _bus(lambda k: c.SetRole(k.actor, k.args["person"], k.args["role"])),
        (Arg("person", "person"), Arg("role", "choice", choices=ROLES)),
        group="admin",
    ),
    CommandSpec(
        "queue add",
        "Add a queue (admin)",
        AD,
        _bus(lambda k: c.AddQueue(k.actor, k.args["name"], k.args.get("description"))),
        (Arg("name"), Arg("description", "text", optional=True)),
        group="admin",
    ),
    CommandSpec(
        "queue remove",
        "Remove a queue (admin)",
        AD,
        _bus(lambda k: c.RemoveQueue(k.actor, k.args["name"])),
        (Arg("name"),),
        group="admin",
    ),
    CommandSpec(
        "sla show",
        "Show SLA policies, business-hours calendars and timers (lead)",
        L,
        _sla_show,
        group="admin",
    ),
    CommandSpec(
        "sla set",
        "Change an SLA policy, e.g. /sla set urgent first_response 1h (admin)",
        AD,
        _bus(lambda k: c.SetSlaPolicy(k.actor, k.args["policy"], k.args["key"], k.args["value"])),
        (Arg("policy"), Arg("key", "choice", choices=SLA_KEYS), Arg("value", "text")),
        group="admin",
    ),
    CommandSpec(
        "customer merge",
        "Join two customer records (admin)",
        AD,
        _bus(lambda k: c.MergeCustomers(k.actor, k.args["source"], k.args["target"])),
        (Arg("source", "person"), Arg("target", "person")),
        group="admin",
    ),
    # --- automation (issue 7): routing rules, knowledge base, satisfaction ------------------
    CommandSpec("rules list", "List routing rules in order", A, auto.rules_list, group="rules"),
    CommandSpec(
        "rules test",
        "Show which routing rules a new ticket with this text would match",
        A,
        auto.rules_test,
        (Arg("text", "text"),),
        group="rules",
    ),
    CommandSpec(
        "route",
        "Run the routing rules again on a ticket (queue, priority, tags, SLA, assignee)",
        A,
        _bus(lambda k: ac.RerouteTicket(k.actor, k.ticket_id)),
        ticket=True,
        group="rules",
    ),
    CommandSpec(
        "rules add",
        "Add a rule: NAME when keywords:a,b platform:email then queue:q priority:high (admin)",
        AD,
        _bus(lambda k: ac.AddRule(k.actor, k.args["rule"])),
        (Arg("rule", "text"),),
        group="rules",
    ),
    CommandSpec(
        "rules remove",
        "Remove a rule added by command (admin)",
        AD,
        _bus(lambda k: ac.RemoveRule(k.actor, k.args["name"])),
        (Arg("name"),),
        group="rules",
    ),
    CommandSpec(
        "kb search", "Search help articles", CU, auto.kb_search, (Arg("text", "text"),), group="kb"
    ),
    CommandSpec("kb show", "Show a help article", CU, auto.kb_show, (Arg("article"),), group="kb"),
    CommandSpec(
        "kb list",
        "List articles (draft or published)",
        A,
        auto.kb_list,
        (Arg("state", "choice", optional=True, choices=("draft", "published")),),
        group="kb",
    ),
    CommandSpec(
        "kb add",
        "Write an article: [internal] title, body, tags split by bars; a lead approves",
        A,
        _bus(lambda k: ac.AddArticle(k.actor, k.args["article"])),
        (Arg("article", "text"),),
        group="kb",
    ),
    CommandSpec(
        "kb publish",
        "Approve and publish an article (lead)",
        L,
        _bus(lambda k: ac.PublishArticle(k.actor, k.args["article"])),
        (Arg("article"),),
        group="kb",
    ),
    CommandSpec(
        "rate",
        "Rate how we handled your ticket, 1 (poor) to 5 (excellent), with an optional comment",
        CU,
        auto.rate,
        (Arg("score", "choice", choices=SCORES), Arg("comment", "text", optional=True)),
        ticket=True,
        group="general",
    ),
    CommandSpec(
        "solved",
        "A suggested article solved your problem: resolve the ticket",
        CU,
        auto.solved,
        ticket=True,
        group="general",
    ),
    CommandSpec(
        "agent set",
        "Set an agent's queues, skills or capacity (admin)",
        AD,
        _bus(
            lambda k: ac.SetAgentField(k.actor, k.args["person"], k.args["field"], k.args["value"])
        ),
        (
            Arg("person", "person"),
            Arg("field", "choice", choices=("queues", "skills", "capacity")),
            Arg("value", "text"),
        ),
        group="admin",
    ),
    # --- reports (issue 8): leads and admins; agents may ask for their own (`/report me`) ---
    CommandSpec(
        "report",
        "Help desk figures: [me] [today|yesterday|7d|30d|this-week|last-month|FROM..TO] "
        "[by agent|queue|channel|priority|tag] [queue:NAME] [format:text|chart|csv] "
        "(leads; agents: /report me)",
        A,
        _report,
        (Arg("options", "text", optional=True),),
        group="reports",
    ),
)

BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in TABLE}


def lookup(text: str) -> tuple[CommandSpec | None, str]:
    """The longest command name that starts `text`, and the rest of the line."""
    words = text.split()
    for n in (2, 1):
        if len(words) >= n:
            name = " ".join(words[:n]).lower()
            if name in BY_NAME:
                rest = text.split(None, n)[n] if len(text.split(None, n)) > n else ""
                return BY_NAME[name], rest
    return None, text


def families() -> dict[str, list[CommandSpec]]:
    """Commands grouped by first word (`canned` → add/list/remove/use), for platform UIs."""
    out: dict[str, list[CommandSpec]] = {}
    for spec in TABLE:
        out.setdefault(spec.name.split()[0], []).append(spec)
    return out
