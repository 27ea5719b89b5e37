"""The one inbound port: messages become tickets (group commit); commands use the table."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from bot import commands as table
from bot.domain.commands import EditMessage, IngestMessage, OpenTicket, RecordBounce
from bot.domain.errors import DomainError
from bot.domain.model import Role
from bot.messages import CommandInvocation, ConversationRef, Identity, InboundMessage, Reply
from bot.services import queries, threads
from bot.services.context import Core
from bot.services.ingest import IngestResult
from bot.services.messagebus import MessageBus
from bot.services.threads import ThreadMessage
from bot.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MAX_GROUP = 200


class UsageError(Exception):
    """Wrong arguments: the message is the usage line."""


@dataclass
class Call:
    """One command run: the parsed arguments plus ways to reach the ticket and the core."""

    gateway: Gateway
    invocation: CommandInvocation
    spec: table.CommandSpec
    role: Role
    args: dict[str, Any] = field(default_factory=dict)
    explicit_ticket: int | None = None

    @property
    def actor(self) -> Identity:
        return self.invocation.actor

    @property
    def conversation_key(self) -> str | None:
        conv = self.invocation.conversation
        return conv.key if conv else None

    @property
    def ticket_id(self) -> int:
        assert self.explicit_ticket is not None
        return self.explicit_ticket

    async def require_ticket(self) -> int:
        if self.explicit_ticket is None:
            self.explicit_ticket = await self.gateway.context_ticket(self.invocation, self.role)
        if self.explicit_ticket is None:
            raise UsageError(
                f"Which ticket? Run it inside a ticket's conversation or name it: "
                f"{self.spec.usage.replace('[T-n]', self.gateway.core.policy.refs.format(12))}"
            )
        return self.explicit_ticket

    async def query(self, name: str, ticket_id: int | None) -> Reply:
        g = self.gateway
        core = g.core

        async def run(uow: UnitOfWork) -> Reply:
            if name == "show":
                return await queries.show(uow, core, ticket_id or 0)
            if name == "history":
                return await queries.history(uow, core, ticket_id or 0)
            if name == "search":
                return await queries.search(uow, core, self.actor, self.args.get("filters") or "")
            if name == "mytickets":
                return await queries.my_tickets(uow, core, self.actor)
            if name == "customer_status":
                return await queries.customer_status(
                    uow, core, self.actor, ticket_id or 0, self.role
                )
            if name == "canned_list":
                items = await uow.canned.list()
                if not items:
                    return Reply(True, "No canned answers yet. Add one with /canned add NAME TEXT.")
                return Reply(True, "\n".join(f"{n}: {b}" for n, b in items))
            raise AssertionError(name)

        if name == "new":
            conv = self.invocation.conversation or ConversationRef(
                self.actor.platform, self.actor.external_id
            )
            return await g.bus.handle(
                OpenTicket(self.actor, self.args["subject"], conv.key, conv.platform)
            )
        return await g.bus.query(run)


class Gateway:
    """Adapters call `receive` for messages and `execute` for commands; nothing else."""

    def __init__(self, bus: MessageBus, core: Core) -> None:
        self.bus = bus
        self.core = core
        self._pending: list[tuple[IngestMessage, asyncio.Future[Any]]] = []
        self._flushing = False

    # --- messages ---------------------------------------------------------------------------
    async def receive(self, message: InboundMessage) -> IngestResult:
        """Record a message. Messages arriving together share one commit (group commit)."""
        result: IngestResult = await self.submit(message)
        return result

    def submit(self, message: InboundMessage) -> asyncio.Future[Any]:
        """Queue a message now; the future gives its IngestResult once committed.

        Messages are recorded in the order they are submitted, so an adapter can submit a
        reply right after the message it answers without waiting for that one's commit.
        """
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((IngestMessage(message.author, message), fut))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        return fut

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(0)  # let messages that arrived together join the group
            while self._pending:
                batch, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
                try:
                    results = await self.bus.handle_group([cmd for cmd, _ in batch])
                except Exception as exc:  # pragma: no cover - handle_group isolates failures
                    results = [exc] * len(batch)
                for (_, fut), result in zip(batch, results, strict=True):
                    if fut.done():
                        continue
                    if isinstance(result, BaseException):
                        fut.set_exception(result)
                    else:
                        fut.set_result(result)
        finally:
            self._flushing = False

    async def record_edit(
        self, platform: str, message_id: str, author: Identity, text: str, *, deleted: bool = False
    ) -> bool:
        """A recorded message was edited or deleted on its platform: keep that on the ticket."""
        return bool(await self.bus.handle(EditMessage(author, platform, message_id, text, deleted)))

    # --- threads (email): a conversation's earlier messages, bounces -------------------------
    async def thread_messages(
        self, platform: str, conversation_key: str, limit: int = 50
    ) -> list[ThreadMessage]:
        """Customers' messages of a conversation with their stored headers, oldest first."""
        return await self.bus.query(
            lambda uow: threads.thread_messages(uow, platform, conversation_key, limit)
        )

    async def record_bounce(self, bounce: RecordBounce) -> str | None:
        """A delivery report for a message we sent: ticket ref, or None when not ours."""
        result = await self.bus.handle(bounce)
        return str(result) if result else None

    # --- commands ---------------------------------------------------------------------------
    async def execute(self, invocation: CommandInvocation) -> Reply:
        """Run a command line (`claim T-3`, `reply thanks`). Never raises for user mistakes."""
        text = invocation.text.strip().lstrip("/")
        spec, rest = table.lookup(text)
        if not text:
            spec, rest = table.BY_NAME["help"], ""
        role = await self.role_of(invocation.actor)
        if spec is None:
            word = text.split()[0] if text.split() else text
            return Reply(False, f"Unknown command /{word}.\n{self.help_text(role, None)}")
        if not role.at_least(spec.role):
            mine = ", ".join(f"/{s.name}" for s in table.TABLE if role.at_least(s.role))
            who = "agents" if spec.role == Role.AGENT else f"{spec.role.value}s"
            return Reply(False, f"Sorry, /{spec.name} is only for {who}. You can use: {mine}.")
        try:
            call = self._parse(invocation, spec, role, rest)
            return await spec.run(call)
        except UsageError as exc:
            return Reply(False, f"{exc}\nUsage: {spec.usage}")
        except DomainError as exc:
            return Reply(False, str(exc))

    async def role_of(self, identity: Identity) -> Role:
        async def run(uow: UnitOfWork) -> Role:
            actor = await self.core.actor(uow, identity)
            await uow.commit()  # agents listed in settings are recorded on first sight
            return actor.role

        return await self.bus.query(run)

    def _parse(
        self, inv: CommandInvocation, spec: table.CommandSpec, role: Role, rest: str
    ) -> Call:
        refs = self.core.policy.refs
        call = Call(self, inv, spec, role)
        tokens = rest.split()
        if spec.ticket and tokens and refs.is_ref(tokens[0]):
            call.explicit_ticket = refs.parse(tokens[0])
            rest = rest.split(None, 1)[1] if len(tokens) > 1 else ""
            tokens = tokens[1:]
        for arg in spec.args:
            if arg.kind == "text":
                value = rest.strip()
                if not value and not arg.optional:
                    raise UsageError(f"/{spec.name} needs {arg.name}.")
                call.args[arg.name] = value or None
                rest, tokens = "", []
                continue
            if not tokens:
                if arg.optional:
                    continue
                raise UsageError(f"/{spec.name} needs {arg.usage}.")
            token = tokens.pop(0)
            rest = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
            if arg.kind == "ref":
                tid = refs.parse(token)
                if tid is None:
                    raise UsageError(f"{token!r} is not a ticket reference.")
                call.args[arg.name] = tid
            elif arg.kind == "choice":
                if token.lower() not in arg.choices:
                    raise UsageError(f"{arg.name} must be one of: {', '.join(arg.choices)}.")
                call.args[arg.name] = token.lower()
            else:
                call.args[arg.name] = token
        if tokens:
            raise UsageError(f"Unexpected {' '.join(tokens)!r}.")
        return call

    async def context_ticket(self, inv: CommandInvocation, role: Role) -> int | None:
        """The ticket a command without a ref is about: adapter context, else the conversation."""
        if inv.context_ref:
            return self.core.ticket_id(inv.context_ref)
        conv = inv.conversation
        if conv is None:
            return None

        async def run(uow: UnitOfWork) -> int | None:
            key = await uow.refs_store.key_for_conversation(conv.platform, conv.key)
            if key and key.startswith("card:"):
                return int(key.split(":")[1])
            ticket = await uow.tickets.latest_for_conversation(conv.key)
            return ticket.id if ticket else None

        return await self.bus.query(run)

    def help_text(self, role: Role, command: str | None) -> str:
        if command:
            spec = table.BY_NAME.get(command.lstrip("/").lower())
            if spec and role.at_least(spec.role):
                return f"{spec.usage} — {spec.help}"
        lines = ["Commands:"]
        for spec in table.TABLE:
            if role.at_least(spec.role):
                lines.append(f"  {spec.usage} — {spec.help}")
        return "\n".join(lines)
