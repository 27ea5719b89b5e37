"""Outbound webhooks against a local aiohttp receiver that verifies every signature."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from adapters.console import ConsoleAdapter
from adapters.webhook import SIGNATURE, TIMESTAMP, sign, verify
from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.domain.model import Role
from bot.messages import CommandInvocation, ConversationRef, Identity, InboundMessage
from bot.services.ports import FakeClock

SECRET = "s3cret-for-tests"
ALICE = Identity("console", "alice", "alice")
BOB = Identity("console", "bob", "bob")


@dataclass
class Receiver:
    """A webhook endpoint: checks the signature like a real receiver would."""

    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    calls: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.read()
        if not verify(SECRET, request.headers, body):
            self.rejected += 1
            return web.Response(status=401)
        if self.calls <= self.fail_first:
            return web.Response(status=503)
        event = json.loads(body)
        assert request.headers["X-Deskbot-Event"] == event["event"]
        self.received.append(event)
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    server = web.Application()
    server.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}/hook"
    yield rec
    await runner.cleanup()


async def make_app(db_url: str, receiver: Receiver, clock: FakeClock, **extra: Any) -> App:
    settings = Settings(  # type: ignore[call-arg]
        database_url=db_url,
        _env_file=None,
        webhook_urls=receiver.url,
        webhook_secret=SECRET,
        **extra,
    )
    app = await build_app(
        settings, clock=clock, adapters=[ConsoleAdapter(io.StringIO())], dispatch_concurrently=False
    )
    await app.seed_agent("bob", Role.AGENT, ["console:bob"])
    await app.start(background=False)
    return app


async def say(app: App, text: str, n: int) -> None:
    await app.gateway.receive(
        InboundMessage("console", f"m{n}", ALICE, ConversationRef("console", "alice"), text)
    )


async def run(app: App, who: Identity, line: str) -> None:
    reply = await app.gateway.execute(CommandInvocation("console", who, line, context_ref="T-1"))
    assert reply.ok, reply.text


async def test_lifecycle_events_are_signed_retried_and_in_order(
    db_url: str, receiver: Receiver
) -> None:
    receiver.fail_first = 1  # the endpoint is briefly down
    clock = FakeClock()
    app = await make_app(db_url, receiver, clock)
    try:
        await say(app, "printer on fire", 1)
        await run(app, BOB, "claim")
        await run(app, BOB, "reply have you tried water?")
        await run(app, BOB, "resolve")
        await say(app, "5", 2)
        await run(app, BOB, "close")
        await app.dispatcher.drain()
        assert receiver.received == []  # first attempt failed; the rest wait behind it
        clock.advance(timedelta(seconds=5))
        await app.dispatcher.drain()
    finally:
        await app.stop()
    names = [e["event"] for e in receiver.received]
    assert names == [
        "ticket.created",
        "ticket.assigned",
        "ticket.status_changed",  # new → open by the claim
        "ticket.replied",
        "ticket.status_changed",  # → resolved
        "ticket.rated",
        "ticket.status_changed",  # → closed
        "ticket.closed",
    ]
    assert receiver.rejected == 0 and receiver.calls == len(names) + 1
    by_name = {e["event"]: e for e in receiver.received}
    assert by_name["ticket.created"]["ticket"]["ref"] == "T-1"
    assert by_name["ticket.assigned"]["data"]["new"] == "bob"
    assert by_name["ticket.replied"]["data"]["text"] == "have you tried water?"
    assert by_name["ticket.rated"]["data"]["score"] == 5
    assert by_name["ticket.closed"]["ticket"]["status"] == "closed"
    assert len({e["id"] for e in receiver.received}) == len(names)


async def test_only_configured_events_are_sent(db_url: str, receiver: Receiver) -> None:
    app = await make_app(db_url, receiver, FakeClock(), webhook_events="closed rated")
    try:
        await say(app, "hello", 1)
        await run(app, BOB, "close")
        await app.dispatcher.drain()
    finally:
        await app.stop()
    assert [e["event"] for e in receiver.received] == ["ticket.closed"]


async def test_a_permanent_refusal_is_not_retried(db_url: str, receiver: Receiver) -> None:
    clock = FakeClock()
    app = await make_app(db_url, receiver, clock)
    app.registry._adapters["webhook"].secret = "wrong"  # type: ignore[attr-defined]
    try:
        await say(app, "hello", 1)
        await app.dispatcher.drain()
        clock.advance(timedelta(hours=1))
        await app.dispatcher.drain()
        async with app.uow() as uow:
            failed = await uow.outbox.for_ticket(1)
    finally:
        await app.stop()
    assert receiver.rejected == 1 and receiver.received == []  # 401: given up at once
    assert [r.kind for r in failed] == ["webhook"]


def test_signature_checks() -> None:
    body = b'{"event":"ticket.created"}'
    headers = {TIMESTAMP: "1700000000", SIGNATURE: sign(SECRET, "1700000000", body)}
    assert verify(SECRET, headers, body, now=1700000100)
    assert not verify(SECRET, headers, body + b" ", now=1700000100)  # tampered body
    assert not verify("other", headers, body, now=1700000100)  # wrong secret
    assert not verify(SECRET, headers, body, now=1700009999)  # too old: replay
    assert not verify(SECRET, {TIMESTAMP: "x"}, body)
