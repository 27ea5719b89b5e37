"""Core behaviour through the real bus and database, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.domain.errors import ConcurrencyConflict
from bot.domain.model import Role
from bot.domain.status import Priority
from bot.messages import (
    CommandInvocation,
    ConversationRef,
    DeliveryError,
    DeliveryResult,
    Identity,
    InboundMessage,
    Outbound,
)
from bot.services.ports import FakeClock
from storage import tables as t
from storage.migrate import SchemaError


class RecordingAdapter:
    """An agent-facing adapter that records deliveries and can fail on demand."""

    platform = "console"
    agent_facing = True

    def __init__(self) -> None:
        self.sent: list[Outbound] = []
        self.fail: list[Exception] = []

    async def start(self, gateway: Any) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: Outbound) -> DeliveryResult:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append(message)
        return DeliveryResult(external_id=f"x{message.id}")


def settings(url: str, **kw: Any) -> Settings:
    return Settings(database_url=url, _env_file=None, **kw)  # type: ignore[call-arg]


async def make_app(url: str, adapter: RecordingAdapter | None = None, **kw: Any) -> App:
    app = await build_app(
        settings(url, **kw),
        clock=FakeClock(),
        adapters=[adapter or RecordingAdapter()],
        dispatch_concurrently=False,
    )
    await app.seed_agent("bob", Role.AGENT, ["console:bob"])
    await app.seed_agent("carol", Role.AGENT, ["console:carol"])
    return app


def msg(who: str, text: str, mid: str, *, platform: str = "console", **kw: Any) -> InboundMessage:
    ident = kw.pop("identity", None) or Identity(platform, who, who)
    return InboundMessage(platform, mid, ident, ConversationRef(platform, who), text, **kw)


def cmd(who: str, line: str, ref: str | None = None) -> CommandInvocation:
    return CommandInvocation(
        "console",
        Identity("console", who, who),
        line,
        ConversationRef("console", who),
        context_ref=ref,
    )


async def count(app: App, table: Any) -> int:
    async with app.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_redelivered_message_is_recorded_once(db_url: str) -> None:
    app = await make_app(db_url)
    try:
        first = await app.gateway.receive(msg("alice", "hello", "m-1"))
        again = await app.gateway.receive(msg("alice", "hello", "m-1"))
        both = await asyncio.gather(
            *(app.gateway.receive(msg("alice", "x", "m-2")) for _ in range(5))
        )
        assert first.created and not first.duplicate
        assert again.duplicate and again.ref == first.ref
        assert {r.ref for r in both} == {first.ref}
        assert await count(app, t.messages) == 2
        assert await count(app, t.tickets) == 1
    finally:
        await app.stop()


async def test_one_bad_message_in_a_group_fails_alone(db_url: str) -> None:
    app = await make_app(db_url)
    try:
        good = [msg(f"c{i}", "help", f"g-{i}") for i in range(5)]
        bad = msg("c9", "about that", "b-1", ticket_ref="T-999")
        results = await asyncio.gather(
            *(app.gateway.receive(m) for m in [*good, bad]), return_exceptions=True
        )
        assert all(not isinstance(r, BaseException) for r in results[:5])
        assert isinstance(results[5], Exception) and "T-999" in str(results[5])
        assert await count(app, t.tickets) == 5
    finally:
        await app.stop()


async def test_verified_email_joins_customers_unverified_does_not(db_url: str) -> None:
    app = await make_app(db_url)
    try:
        slack = Identity("slack", "U1", "Alice", email="alice@example.com", email_verified=True)
        await app.gateway.receive(msg("U1", "from slack", "s-1", platform="slack", identity=slack))
        mail = Identity(
            "email", "alice@example.com", "Alice", email="alice@example.com", email_verified=True
        )
        await app.gateway.receive(
            msg("alice@example.com", "by mail", "e-1", platform="email", identity=mail)
        )
        spoof = Identity(
            "email",
            "alice@example.com.evil",
            "Alice",
            email="ALICE@example.com",
            email_verified=False,
        )
        await app.gateway.receive(msg("spoof", "me too", "e-2", platform="email", identity=spoof))
        assert await count(app, t.customers) == 2
        async with app.engine.connect() as conn:
            owners = (await conn.execute(select(t.identities.c.customer_id))).scalars().all()
        assert len(set(owners)) == 2 and len(owners) == 3
    finally:
        await app.stop()


async def test_delivery_retries_in_order_then_failure_is_visible(db_url: str) -> None:
    adapter = RecordingAdapter()
    app = await make_app(db_url, adapter, outbox_max_attempts=3)
    clock = app.core.clock
    assert isinstance(clock, FakeClock)
    try:
        await app.gateway.receive(msg("alice", "printer", "m-1"))
        adapter.fail = [DeliveryError("503 from platform")]
        await app.dispatcher.drain()
        # the ack failed once: it waits (backoff) and nothing of that conversation overtakes it
        assert [m.kind for m in adapter.sent] == ["card"]
        await app.gateway.execute(cmd("bob", "/reply first answer", "T-1"))
        await app.dispatcher.drain()
        assert [m.kind for m in adapter.sent if m.audience == "customer"] == []
        from datetime import timedelta

        clock.advance(timedelta(seconds=5))
        await app.dispatcher.drain()
        customer = [m for m in adapter.sent if m.audience == "customer"]
        assert [m.kind for m in customer] == ["ack", "reply"]
        # a permanent failure is recorded, shown on the ticket and told to agents
        adapter.fail = [DeliveryError("channel_not_found", permanent=True)]
        await app.gateway.execute(cmd("bob", "/reply second answer", "T-1"))
        await app.dispatcher.drain()
        shown = await app.gateway.execute(cmd("bob", "/show", "T-1"))
        assert "failed: channel_not_found" in shown.text
        history = await app.gateway.execute(cmd("bob", "/history", "T-1"))
        assert "delivery_failed" in history.text
        notices = [m.text for m in adapter.sent if m.kind == "system"]
        assert any("Delivery failed on T-1" in n for n in notices)
    finally:
        await app.stop()


async def test_two_workers_claiming_at_once_have_one_winner(db_url: str) -> None:
    a = await make_app(db_url)
    b = await build_app(settings(db_url), clock=a.core.clock, adapters=[RecordingAdapter()])
    try:
        await a.gateway.receive(msg("alice", "urgent", "m-1"))
        for _ in range(3):
            replies = await asyncio.gather(
                a.gateway.execute(cmd("bob", "/claim", "T-1")),
                b.gateway.execute(cmd("carol", "/claim", "T-1")),
            )
            assert sorted(r.ok for r in replies) == [False, True]
            loser = next(r for r in replies if not r.ok)
            assert "already claimed by" in loser.text
            winner_reply = await a.gateway.execute(cmd("bob", "/unclaim", "T-1"))
            if not winner_reply.ok:
                await a.gateway.execute(cmd("carol", "/unclaim", "T-1"))
    finally:
        await b.stop()
        await a.stop()


async def test_reference_prefix_and_start_number(db_url: str) -> None:
    app = await make_app(db_url, ref_prefix="HD-", ref_start=1000)
    try:
        result = await app.gateway.receive(msg("alice", "hi", "m-1"))
        assert result.ref == "HD-1000"
        shown = await app.gateway.execute(cmd("bob", "/show HD-1000"))
        assert shown.ok and shown.text.startswith("HD-1000")
    finally:
        await app.stop()


async def test_settings_file_seeds_queues_and_people(db_url: str, tmp_path: Any) -> None:
    config = tmp_path / "deskbot.toml"
    config.write_text(
        '[[queues]]\nname = "billing"\n\n[[people]]\nname = "lena"\nrole = "lead"\n'
        'ids = ["console:lena"]\n'
    )
    app = await make_app(db_url, config=config, agents="console:zed")
    try:
        await app.gateway.receive(msg("alice", "refund please", "m-1"))
        moved = await app.gateway.execute(cmd("lena", "/transfer billing", "T-1"))
        assert moved.ok, moved.text
        nowhere = await app.gateway.execute(cmd("lena", "/transfer nowhere", "T-1"))
        assert not nowhere.ok and "billing" in nowhere.text
        # an agent listed in settings is recognised on first sight
        claimed = await app.gateway.execute(cmd("zed", "/claim", "T-1"))
        assert claimed.ok, claimed.text
    finally:
        await app.stop()


async def test_schema_newer_than_code_or_foreign_refuses_to_start(db_url: str) -> None:
    app = await make_app(db_url)
    await app.stop()
    from storage.engine import create_engine

    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    await engine.dispose()
    with pytest.raises(SchemaError, match="newer than this deskbot"):
        await build_app(settings(db_url))


async def test_history_is_append_only_in_code() -> None:
    """No code path updates or deletes history rows."""
    import re

    from tests.conftest import REPO

    offenders = []
    for path in [*REPO.glob("bot/**/*.py"), *REPO.glob("storage/**/*.py")]:
        source = path.read_text()
        if re.search(r"(update|delete)\(\s*(t\.)?history\b", source):
            offenders.append(str(path))
    assert offenders == []


async def test_agent_files_are_kept_and_relayed_to_the_customer(db_url: str) -> None:
    from bot.messages import AttachmentInfo

    app = await make_app(db_url)
    try:
        opened = await app.gateway.receive(msg("alice", "printer broken", "m-1"))
        shot = AttachmentInfo("fix.png", "image/png", 2048, "https://files.example/fix.png")
        log = AttachmentInfo("debug.log", "text/plain", 10, "https://files.example/debug.log")
        await app.gateway.receive(
            msg("bob", "try this", "m-2", ticket_ref=opened.ref, attachments=(shot,))
        )
        await app.gateway.receive(
            msg(
                "bob",
                "internal log",
                "m-3",
                ticket_ref=opened.ref,
                internal=True,
                attachments=(log,),
            )
        )
        async with app.engine.connect() as conn:
            kept = (
                await conn.execute(
                    select(t.messages.c.text, t.messages.c.attachments)
                    .where(t.messages.c.author_kind == "agent")
                    .order_by(t.messages.c.id)
                )
            ).all()
            relayed = (
                await conn.execute(
                    select(t.outbox.c.payload, t.outbox.c.text).where(
                        t.outbox.c.kind == "reply", t.outbox.c.audience == "customer"
                    )
                )
            ).all()
        assert [(k.text, [a["filename"] for a in k.attachments]) for k in kept] == [
            ("try this", ["fix.png"]),
            ("internal log", ["debug.log"]),
        ]
        assert len(relayed) == 1
        assert relayed[0].payload["attachments"][0]["url"] == "https://files.example/fix.png"
        assert "debug.log" not in str(relayed[0].payload)
    finally:
        await app.stop()


async def test_show_lists_each_identitys_email_and_phone(db_url: str) -> None:
    app = await make_app(db_url)
    try:
        slack = Identity(
            "slack", "U1", "Alice", email="alice@example.com", email_verified=True,
            phone="+385 1 555 0101",
        )  # fmt: skip
        opened = await app.gateway.receive(
            msg("U1", "from slack", "s-1", platform="slack", identity=slack)
        )
        mail = Identity(
            "email", "alice@example.com", "Alice", email="alice@example.com", email_verified=True
        )
        await app.gateway.receive(
            msg("alice@example.com", "by mail", "e-1", platform="email", identity=mail)
        )
        shown = await app.gateway.execute(cmd("bob", f"show {opened.ref}"))
        assert shown.ok
        assert (
            "contact: alice@example.com · +385 1 555 0101 (slack); alice@example.com (email)"
            in (shown.text)
        )
        async with app.engine.connect() as conn:
            phones = (await conn.execute(select(t.identities.c.phone))).scalars().all()
        assert sorted(p or "" for p in phones) == ["", "+385 1 555 0101"]
    finally:
        await app.stop()


async def test_tag_filter_finds_tags_as_written_now_and_before(db_url: str) -> None:
    """Tags are JSON text; older rows spelled non-ASCII as \\u escapes (json.dumps), new ones
    raw UTF-8 (orjson). `list tag:` finds both; `_` in a tag is not a wildcard."""
    import json

    app = await make_app(db_url)
    try:
        refs = [(await app.gateway.receive(msg(f"c{i}", "help", f"m-{i}"))).ref for i in range(3)]
        assert (await app.gateway.execute(cmd("bob", f"tag add {refs[0]} čšž"))).ok
        assert (await app.gateway.execute(cmd("bob", f"tag add {refs[2]} a_b"))).ok
        old = json.dumps(["čšž"])  # '["\\u010d\\u0161\\u017e"]'
        cast_json = "CAST(:v AS json)" if app.engine.dialect.name == "postgresql" else ":v"
        async with app.engine.begin() as conn:
            await conn.execute(
                text(f"UPDATE tickets SET tags = {cast_json} WHERE id = 2"), {"v": old}
            )
        found = await app.gateway.execute(cmd("bob", "list tag:čšž"))
        assert refs[0] in found.text and refs[1] in found.text and refs[2] not in found.text
        underscore = await app.gateway.execute(cmd("bob", "list tag:a_b"))
        assert refs[2] in underscore.text and refs[0] not in underscore.text
        none = await app.gateway.execute(cmd("bob", "list tag:axb"))
        assert refs[2] not in none.text
    finally:
        await app.stop()


async def test_a_ticket_changed_behind_a_unit_is_not_overwritten(db_url: str) -> None:
    """Saves check the version each ticket was loaded at (SQLite's executemany counts the rows
    it matched): a change made in between fails the unit instead of being overwritten."""
    app = await make_app(db_url)
    try:
        alice = Identity("console", "alice", "alice")
        got = await app.gateway.receive(
            InboundMessage("console", "m1", alice, ConversationRef("console", "alice"), "help")
        )
        with pytest.raises(ConcurrencyConflict):
            async with app.uow() as uow:
                ticket = await uow.tickets.get(got.ticket_id)
                assert ticket is not None
                ticket.set_priority(Priority.HIGH, actor="bob", at=ticket.created_at)
                await uow._conn.execute(  # type: ignore[union-attr]  # someone else's change
                    t.tickets.update()
                    .where(t.tickets.c.id == ticket.id)
                    .values(version=t.tickets.c.version + 1, priority="low")
                )
                await uow.commit()
        async with app.engine.connect() as conn:
            row = (await conn.execute(select(t.tickets.c.priority, t.tickets.c.version))).one()
        assert tuple(row) == ("normal", 1)  # the failed unit rolled back: nothing half-written
    finally:
        await app.stop()
