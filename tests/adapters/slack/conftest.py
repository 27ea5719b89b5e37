"""A real deskbot app with the Slack adapter, wired to FakeSlack, driven by signed requests."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.slack import SlackAdapter
from bot.bootstrap import App, build_app
from bot.config import Settings
from storage import tables as t
from storage.engine import create_engine
from storage.migrate import ensure_schema
from tests.fakes.slack_api import FakeSlack, Message
from tests.fakes.slack_driver import DriverResponse, SlackDriver

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
HELP, TRIAGE, RANDOM = "C0HELP", "G0TRIAGE", "C0RANDOM"
ALICE, DAVE, BOB, CAROL, LEE = "U0ALICE", "U0DAVE", "U0BOB", "U0CAROL", "U0LEE"
AGENT_GROUP = "S0AGENTS"


def workspace(slack: FakeSlack) -> None:
    """Customers alice and dave; agents bob (by id) and carol (by user group); lead lee."""
    slack.add_user("alice", id=ALICE, email="alice@example.com", display_name="alice")
    slack.add_user("dave", id=DAVE, email="dave@example.com")
    slack.add_user("bob", id=BOB, email="bob@corp.example")
    slack.add_user("carol", id=CAROL)
    slack.add_user("lee", id=LEE)
    people = [ALICE, DAVE, BOB, CAROL, LEE]
    slack.add_channel("help", id=HELP, members=people)
    slack.add_channel("triage", id=TRIAGE, private=True, members=[BOB, CAROL, LEE])
    slack.add_channel("random", id=RANDOM, members=people)
    slack.add_usergroup("agents", [CAROL], id=AGENT_GROUP)


def slack_settings(slack: FakeSlack, db_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "slack_api_url": slack.base_url,
        "slack_mode": "http",
        "slack_http_host": "127.0.0.1",
        "slack_http_port": 0,
        "slack_support_channels": HELP,
        "slack_triage_channel": TRIAGE,
        "agents": f"slack:{BOB} slack:{AGENT_GROUP}",
        "leads": f"slack:{LEE}",
        "outbox_poll_seconds": 0.05,
        "slack_rate_limit_retries": 3,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class SlackEnv:
    slack: FakeSlack
    adapter: SlackAdapter
    app: App
    driver: SlackDriver

    async def say(
        self,
        user: str,
        text: str,
        channel: str = HELP,
        *,
        thread_ts: str | None = None,
        event_id: str | None = None,
        channel_type: str = "channel",
        files: list[dict[str, Any]] | None = None,
        **opts: Any,
    ) -> Message:
        """A person posts in the fake workspace; Slack delivers the message event."""
        msg = self.slack.add_message(channel, text, user=user, thread_ts=thread_ts)
        event: dict[str, Any] = {
            "type": "message",
            "channel": msg.channel,
            "user": user,
            "text": text,
            "ts": msg.ts,
            "channel_type": channel_type,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        if files:
            event.update(files=files, subtype="file_share")
        res = await self.driver.event(event, event_id=event_id, **opts)
        assert res.status == 200, res
        if self.slack.bot_user_id in text and f"<@{self.slack.bot_user_id}>" in text:
            mention = {**event, "type": "app_mention"}
            mention.pop("channel_type", None)
            assert (await self.driver.event(mention)).status == 200
        return msg

    async def command(self, user: str, text: str, channel: str = TRIAGE) -> DriverResponse:
        """`/ticket text`; returns the ack and waits until the command's work is done."""
        res = await self.driver.slash_command("/ticket", text, user, channel)
        await self.adapter.settle()
        return res

    async def quiet(self, within: float = 15.0) -> None:
        """Listener work done and every outbox row settled (sent or failed)."""
        deadline = time.monotonic() + within
        while True:
            await self.adapter.settle()
            async with self.app.engine.connect() as conn:
                busy = (
                    await conn.execute(
                        select(func.count())
                        .select_from(t.outbox)
                        .where(t.outbox.c.status.in_(("queued", "sending")))
                    )
                ).scalar()
            if not busy:
                await self.adapter.settle()
                return
            assert time.monotonic() < deadline, f"{busy} outbox rows still pending"
            await asyncio.sleep(0.02)

    async def rows(self, table: Any, *where: Any) -> list[Any]:
        async with self.app.engine.connect() as conn:
            return list((await conn.execute(select(table).where(*where))).all())

    def thread(self, channel: str, ts: str) -> list[str]:
        return [m.text for m in self.slack.messages(channel, ts)]

    def cards(self) -> list[Message]:
        return [
            m for m in self.slack.messages(TRIAGE) if m.blocks and m.blocks[0]["type"] == "header"
        ]

    def responses(self) -> list[str]:
        """What commands answered through response_url (the blocks' text, unescaped)."""
        out = []
        for post in self.slack.response_posts():
            blocks = post.body.get("blocks") or []
            text = "\n".join(b["text"]["text"] for b in blocks) or str(post.body.get("text"))
            out.append(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
        return out


async def eventually(check: Callable[[], Any], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running(
    db_url: str, fake: dict[str, Any] | None = None, **extra: Any
) -> AsyncIterator[SlackEnv]:
    """FakeSlack + a deskbot app (Slack adapter in HTTP mode on a free port), started."""
    async with FakeSlack(**(fake or {})) as slack:
        workspace(slack)
        settings = slack_settings(slack, db_url, **extra)
        adapter = SlackAdapter(settings)
        app = await build_app(settings, adapters=[adapter])
        await app.start()
        try:
            yield SlackEnv(slack, adapter, app, SlackDriver(adapter.bolt, SECRET, slack=slack))
        finally:
            await app.stop()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated SQLite database, made once; each test gets a copy (saves ~0.5 s)."""
    path = tmp_path_factory.mktemp("slack-template") / "deskbot.db"

    async def make() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await ensure_schema(engine)
        finally:
            await engine.dispose()

    asyncio.run(make())
    return path


@pytest.fixture
def sqlite_copy(migrated_sqlite: Path, tmp_path: Path) -> str:
    target = tmp_path / "deskbot.db"
    shutil.copyfile(migrated_sqlite, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def env(sqlite_copy: str) -> AsyncIterator[SlackEnv]:
    async with running(sqlite_copy) as e:
        yield e
