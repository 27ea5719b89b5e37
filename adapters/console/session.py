"""Runs console dialogues (interactive or scripted) against a real deskbot app."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TextIO

from adapters.console.adapter import PLATFORM, ConsoleAdapter
from adapters.console.script import (
    Directive,
    ScriptError,
    Speak,
    parse_duration,
    parse_line,
    parse_now,
)
from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.domain.errors import DomainError
from bot.domain.model import Role
from bot.messages import CommandInvocation, ConversationRef, Identity, InboundMessage, Reply
from bot.services.ports import FakeClock

ROLES = {"agent": Role.AGENT, "lead": Role.LEAD, "admin": Role.ADMIN}


class ShiftedClock(FakeClock):
    """Real time, shifted by `:now`/`:advance` (interactive mode)."""

    def __init__(self) -> None:
        super().__init__()
        self._offset = timedelta()

    def now(self) -> datetime:
        from datetime import UTC

        return datetime.now(UTC) + self._offset

    def set(self, value: datetime) -> None:
        from datetime import UTC

        self._offset = value - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


class ConsoleSession:
    """Speaks lines as named people; prints deliveries as the dispatcher makes them."""

    def __init__(
        self,
        settings: Settings,
        *,
        out: TextIO | None = None,
        json_mode: bool = False,
        scripted: bool = True,
        extra_adapters: Iterable[object] = (),
    ) -> None:
        self.settings = settings
        self.console = ConsoleAdapter(out, json_mode=json_mode, files_dir=settings.report_dir)
        self.scripted = scripted
        self.clock: FakeClock = (
            FakeClock(datetime.now().astimezone()) if scripted else ShiftedClock()
        )
        self.extra = list(extra_adapters)
        self.app: App | None = None
        self._parallel: list[Speak] | None = None

    async def open(self) -> App:
        self.app = await build_app(
            self.settings,
            clock=self.clock,
            adapters=[self.console, *self.extra],  # type: ignore[list-item]
            demo_team=not self.scripted,
            dispatch_concurrently=False,
        )
        await self.app.start(background=not self.scripted)
        return self.app

    async def close(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def run(self, lines: Iterable[str], err: TextIO | None = None) -> int:
        """Run a script; stop with exit code 2 at the first broken line."""
        err = err or sys.stderr
        for number, line in enumerate(lines, 1):
            try:
                await self.line(line)
            except ScriptError as exc:
                err.write(f"line {number}: {exc}: {line.rstrip()}\n")
                return 2
        if self._parallel is not None:
            err.write("script ended inside :parallel (missing :end)\n")
            return 2
        return 0

    async def line(self, line: str) -> None:
        parsed = parse_line(line)
        if parsed is None:
            return
        if isinstance(parsed, Directive):
            await self.directive(parsed)
            return
        if self._parallel is not None:
            self._parallel.append(parsed)
            return
        await self.speak(parsed)
        await self.deliver()

    async def directive(self, d: Directive) -> None:
        app = self._app
        if d.name in ROLES:
            if len(d.args) != 1:
                raise ScriptError(f":{d.name} takes one NAME")
            await app.seed_agent(d.args[0], ROLES[d.name], [f"{PLATFORM}:{d.args[0]}"])
        elif d.name == "now":
            self.clock.set(parse_now(d.args))
        elif d.name == "advance":
            if len(d.args) != 1:
                raise ScriptError(":advance takes one duration, e.g. :advance 90m")
            await self.advance(parse_duration(d.args[0]))
        elif d.name == "restart":
            await self.close()
            await self.open()
        elif d.name == "parallel":
            self._parallel = []
        elif d.name == "end":
            if self._parallel is None:
                raise ScriptError(":end without :parallel")
            group, self._parallel = self._parallel, None
            await asyncio.gather(*(self.speak(s) for s in group))
            await self.deliver()
        else:
            raise ScriptError(f"unknown directive :{d.name}")

    async def advance(self, delta: timedelta) -> None:
        """Move the clock, firing each timer at the moment it falls due."""
        app = self._app
        target = self.clock.now() + delta
        for _ in range(10_000):
            due = await app.scheduler.next_due()
            if due is None or due > target:
                break
            self.clock.set(max(due, self.clock.now()))
            await app.scheduler.sweep()
            await self.deliver()
        self.clock.set(target)
        await app.scheduler.sweep()
        await self.deliver()

    async def speak(self, s: Speak) -> None:
        app = self._app
        identity = Identity(PLATFORM, s.name, s.name)
        role = await app.gateway.role_of(identity)
        audience = "agents" if role.at_least(Role.AGENT) else "customer"
        own = ConversationRef(PLATFORM, s.name)
        ref = s.ref.upper() if s.ref else None
        if s.is_command:
            inv = CommandInvocation(
                PLATFORM,
                identity,
                s.body,
                conversation=own,
                context_ref=ref,
                invocation_id=uuid.uuid4().hex,
            )
            self.console.reply(s.name, audience, await app.gateway.execute(inv))
            return
        conv = ConversationRef(PLATFORM, f"@{ref}") if ref and audience == "agents" else own
        message = InboundMessage(
            PLATFORM,
            uuid.uuid4().hex,
            identity,
            conv,
            s.body,
            ticket_ref=ref,
            visible_to_agents=True,
        )
        try:
            await app.gateway.receive(message)
        except DomainError as exc:
            self.console.reply(s.name, audience, Reply(False, str(exc), ref))

    async def deliver(self) -> None:
        await self._app.dispatcher.drain()

    @property
    def _app(self) -> App:
        if self.app is None:
            raise RuntimeError("session is not open")
        return self.app


async def interactive(session: ConsoleSession, read: Callable[[str], str] = input) -> int:
    """A terminal loop: one line at a time, until EOF or `:quit`."""
    app = await session.open()
    out = session.console.out
    out.write(
        f"deskbot console · database {app.settings.database_url} · demo team: ada (admin), "
        "lee (lead), bob and carol (agents)\n"
        "Type `alice: my printer is on fire`, then `bob@T-1: /claim`. `:quit` to leave.\n"
    )
    try:
        while True:
            try:
                line = await asyncio.to_thread(read, "> ")
            except EOFError:
                break
            if line.strip() in (":quit", ":q", ":exit"):
                break
            try:
                await session.line(line)
            except ScriptError as exc:
                out.write(f"(not understood: {exc})\n")
    finally:
        await session.close()
    return 0
