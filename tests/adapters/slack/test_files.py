"""Files cross sides: a Slack agent's file reaches an email customer; mailed files reach agents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib

from adapters.email import EmailAdapter
from adapters.slack import SlackAdapter
from bot.bootstrap import build_app
from storage import tables as t
from tests.adapters.slack.conftest import (
    ALICE,
    BOB,
    HELP,
    SECRET,
    TRIAGE,
    SlackEnv,
    slack_settings,
    workspace,
)
from tests.fakes.mailservers import SmtpSink
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver

SUPPORT = "support@helpdesk.test"
SHOT = {
    "id": "F0SHOT",
    "name": "fix-steps.png",
    "mimetype": "image/png",
    "size": 2048,
    "url_private": "https://files.slack.com/files-pri/T0TEAM-F0SHOT/fix-steps.png",
    "permalink": "https://example.slack.com/files/U0BOB/F0SHOT/fix-steps.png",
}


@asynccontextmanager
async def slack_and_mail(
    db_url: str, tmp: Path, fake: dict[str, Any] | None = None, **extra: Any
) -> AsyncIterator[tuple[SlackEnv, EmailAdapter, SmtpSink]]:
    async with FakeSlack(**(fake or {})) as slack, SmtpSink() as sink:
        workspace(slack)
        slack.set_rate_limit("chat.postMessage", None)
        settings = slack_settings(
            slack,
            db_url,
            email_address=SUPPORT,
            lmtp_listen="smtp://127.0.0.1:0",
            email_attachments_dir=str(tmp / "attachments"),
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_starttls=False,
            **extra,
        )
        adapter, mail = SlackAdapter(settings), EmailAdapter(settings)
        app = await build_app(settings, adapters=[adapter, mail])
        await app.start()
        try:
            env = SlackEnv(slack, adapter, app, SlackDriver(adapter.bolt, SECRET, slack=slack))
            yield env, mail, sink
        finally:
            await app.stop()


async def send_mail(adapter: EmailAdapter, attachment: tuple[str, bytes] | None = None) -> None:
    msg = EmailMessage()
    msg["From"] = "Carol Customer <carol@customer.test>"
    msg["To"] = SUPPORT
    msg["Subject"] = "Scanner does not scan"
    msg["Message-ID"] = "<first@customer.test>"
    msg.set_content("Hello, the scanner on floor 2 shows an error.\n\nCarol\n")
    if attachment:
        msg.add_attachment(attachment[1], maintype="image", subtype="png", filename=attachment[0])
    assert adapter.listener is not None
    await aiosmtplib.send(
        msg, sender="carol@customer.test", recipients=[SUPPORT], hostname="127.0.0.1",
        port=adapter.listener.port,
    )  # fmt: skip


def body_of(raw: bytes) -> tuple[str, str, list[Any]]:
    mail = message_from_bytes(raw, policy=policy.default)
    plain = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return plain, html, list(mail.iter_attachments())  # type: ignore[attr-defined]


async def test_slack_agents_file_reaches_the_email_customer(
    sqlite_copy: str, tmp_path: Path
) -> None:
    async with slack_and_mail(sqlite_copy, tmp_path) as (env, mail, sink):
        await send_mail(mail)
        await env.quiet()
        [card] = env.cards()
        acks = len(sink.messages)
        # in the card's thread an agent replies by mentioning the bot, with a screenshot
        bot = env.slack.bot_user_id
        await env.say(
            BOB, f"<@{bot}> reply Here is *how* to fix it", TRIAGE, thread_ts=card.ts, files=[SHOT]
        )
        await env.quiet()
        [answer] = (await sink.wait_for(acks + 1))[acks:]
        plain, html, attached = body_of(answer.raw)
        assert "Here is how to fix it" in plain
        assert "Files:\n- fix-steps.png (2.0 KB): " + SHOT["permalink"] in plain
        assert f'<a href="{SHOT["permalink"]}">fix-steps.png</a>' in html
        assert attached == []  # only a Slack link: the bytes were never downloaded here
        [reply] = [m for m in await env.rows(t.messages) if m.author_kind == "agent"]
        assert reply.visibility == "public" and reply.attachments[0]["filename"] == "fix-steps.png"
        assert "Reply sent on T-1 with 1 file." in env.slack.ephemerals[-1].text
        # a plain note with a file in the same thread stays internal: no mail
        await env.say(BOB, "internal screenshot", TRIAGE, thread_ts=card.ts, files=[SHOT])
        await env.quiet()
        assert len(sink.messages) == acks + 1


async def test_mailed_attachment_is_shown_to_agents_under_the_card(
    sqlite_copy: str, tmp_path: Path
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 600
    async with slack_and_mail(sqlite_copy, tmp_path) as (env, mail, _sink):
        await send_mail(mail, ("error.png", png))
        await env.quiet()
        [card] = env.cards()
        thread = env.slack.messages(TRIAGE, card.ts)
        relay = next(m for m in thread if "scanner on floor 2" in m.text)
        listing = str(relay.blocks)
        assert "error.png" in listing and "image/png" in listing
        [uploaded] = env.slack.files.values()
        assert (uploaded.filename, uploaded.content) == ("error.png", png)
        [share] = [m for m in thread if m.files]
        assert share.thread_ts == card.ts  # in the card's thread, after the relayed message
        assert env.slack.messages(TRIAGE) == [card]  # nothing top-level besides the card


async def test_files_for_a_slack_customer_are_listed_with_the_reply(env: SlackEnv) -> None:
    root = await env.say(ALICE, "Need the VPN profile")
    await env.quiet()
    [card] = env.cards()
    bot = env.slack.bot_user_id
    await env.say(BOB, f"<@{bot}> reply T-1 attached", TRIAGE, thread_ts=card.ts, files=[SHOT])
    await env.quiet()
    [reply] = env.slack.messages(HELP, root.ts)[1:]
    assert "attached" in reply.text
    assert f"<{SHOT['permalink']}|fix-steps.png>" in str(reply.blocks)


def test_email_attaches_the_bytes_only_of_files_kept_here(tmp_path: Path) -> None:
    from adapters.email.config import EmailConfig
    from adapters.email.outbound import compose
    from bot.config import Settings
    from bot.messages import ConversationRef, Outbound
    from bot.services.threads import ThreadMessage

    kept = tmp_path / "log.txt"
    kept.write_bytes(b"line 1\nline 2\n")
    big = tmp_path / "dump.bin"
    big.write_bytes(b"\0" * 2048)
    cfg = EmailConfig.from_settings(
        Settings(_env_file=None, email_address=SUPPORT, email_attachment_max_bytes=1024)  # type: ignore[call-arg]
    )
    files = [
        {"filename": "log.txt", "content_type": "text/plain", "size": 14, "url": kept.as_uri()},
        {"filename": "dump.bin", "content_type": "application/octet-stream", "size": 2048,
         "url": big.as_uri()},  # over the cap: listed only
        {"filename": "gone.png", "content_type": "image/png", "size": 10,
         "url": (tmp_path / "gone.png").as_uri()},  # not here (any more): listed only
    ]  # fmt: skip
    out = Outbound(
        1, "email", "customer", "reply", "T-1", "See the log",
        conversation=ConversationRef("email", SUPPORT, "a1@customer.test"),
        payload={"ref": "T-1", "subject": "Logs", "agent_name": "bob", "attachments": files},
    )  # fmt: skip
    thread = [ThreadMessage("a1@customer.test", "Carol", {"from": "carol@customer.test"})]
    plain, _html, attached = body_of(bytes(compose(out, thread, cfg).message))
    assert [(a.get_filename(), a.get_content()) for a in attached] == [
        ("log.txt", "line 1\nline 2\n")
    ]
    assert "- log.txt (14 B, attached)" in plain
    assert "- dump.bin (2.0 KB)\n" in plain and "- gone.png (10 B)" in plain
    assert "file://" not in plain  # a path on our machine means nothing to the customer
