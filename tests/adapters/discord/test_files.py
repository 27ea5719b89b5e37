"""Files through Discord: report charts and CSVs with the answer, agents' files to DM customers."""

from __future__ import annotations

import csv
import io
import struct
from pathlib import Path

from storage import tables as t
from tests.adapters.discord.conftest import DiscordEnv, running
from tests.adapters.discord.test_staff import thread_ticket
from tests.fakes.discord_api import InteractionHandle

PNG = b"\x89PNG\r\n\x1a\n"


async def report(env: DiscordEnv, options: str) -> InteractionHandle:
    handle = await env.dc.interaction_command(
        "report", {"options": options}, user=env.lee, channel_id=env.main.staff.id
    )
    reply = await handle.response()
    assert reply.deferred and reply.elapsed < 3.0
    await handle.followup(within=30)  # matplotlib's first chart takes a while
    return handle


async def test_report_answer_uploads_the_chart_and_the_csv(env: DiscordEnv) -> None:
    dc = env.dc
    await thread_ticket(env, "Printer on fire")
    await dc.user_dm(env.alice, "Scanner jams")
    await env.quiet()
    handle = await report(env, "7d")
    [answer] = handle.followups
    assert answer.ephemeral and "Channels: discord 2" in answer.content
    [chart] = answer.attachments
    assert chart["filename"].endswith(".png") and chart["content_type"] == "image/png"
    png = dc._cdn[int(chart["id"])]
    assert png.startswith(PNG) and len(png) > 2_000
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert width >= 300 and height >= 200
    [upload] = dc.calls("POST", "/webhooks/**")[-1].uploads  # sent as multipart files[0]
    assert upload.field == "files[0]" and upload.data == png

    handle = await report(env, "7d format:csv")
    [answer] = handle.followups
    [export] = answer.attachments
    assert export["filename"].endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(dc._cdn[int(export["id"])].decode("utf-8-sig"))))
    assert len(rows) == 2 and "CSV: 2 tickets" in answer.content


async def test_report_over_the_upload_limit_says_so_instead(tmp_path: Path) -> None:
    async with running(tmp_path, discord_upload_limit_mb=0.001) as env:  # ~1 KB
        await thread_ticket(env)
        handle = await report(env, "7d")
        [answer] = handle.followups
        assert answer.attachments == []
        assert "is over Discord's upload limit and was not attached" in answer.content
        assert not [c for c in env.dc.requests if c.status == 413]


async def test_agents_files_reach_a_dm_customer_within_the_limit(tmp_path: Path) -> None:
    async with running(tmp_path, discord_upload_limit_mb=0.01) as env:  # ~10 KB
        dc, main = env.dc, env.main
        await dc.user_dm(env.alice, "Where is my invoice?")
        await env.quiet()
        await dc.user_message(main.support.id, env.alice, "invoice, once more")
        await env.quiet()
        [thread] = env.threads(main.support)  # T-2, the same question in a thread
        merged = await env.command("merge", {"source": "T-2", "target": "T-1"})
        assert merged == "T-2 merged into T-1."
        files = [("invoice.pdf", b"%PDF-1.4" + b"1" * 3000), ("dump.bin", b"x" * 20_000)]
        await dc.user_message(thread.id, env.bob, "Here is your invoice", attachments=files)
        await env.quiet()
        dm = dc.add_dm(env.alice)
        reply = env.posts(dm.id)[-1]  # the public reply, relayed to her DM with its files
        assert reply.content.startswith("**bob:** Here is your invoice")
        [copied] = reply.attachments
        assert copied["filename"] == "invoice.pdf" and copied["size"] == 3008
        assert dc._cdn[int(copied["id"])] == files[0][1]
        assert "dump.bin (19.5 KB) is over Discord's upload limit; download it here" in (
            reply.content
        )
        [original] = [m for m in dc.messages(thread.id) if m.author.id == env.bob.id]
        link = next(a["url"] for a in original.attachments if a["filename"] == "dump.bin")
        assert f"<{link}>" in reply.content  # the link to the agent's own upload
        assert not [m for m in env.posts(thread.id) if "Here is your invoice" in m.content]


async def test_a_refused_upload_still_answers(env: DiscordEnv) -> None:
    await thread_ticket(env)
    env.dc.fail_next("POST", "/webhooks/**", status=413)
    handle = await report(env, "7d")
    await env.dc.wait_until(lambda: len(handle.followups) == 2)
    answer, notice = handle.followups
    assert "Channels: discord 1" in answer.content and answer.attachments == []
    assert notice.content == "The files could not be attached; please try again later."


async def test_reply_with_a_file_reaches_a_dm_customer(env: DiscordEnv) -> None:
    """`/reply` has a `file` option (type 11): run in the staff thread of a DM ticket, the
    file rides with the public reply into the customer's DM and is kept on the ticket."""
    dc = env.dc
    [registered] = [c for cmds in dc.commands.values() for c in cmds if c["name"] == "reply"]
    [option] = [o for o in registered["options"] if o["name"] == "file"]
    assert option["type"] == 11 and not option.get("required")
    await dc.user_dm(env.alice, "Where is my invoice?")
    await env.quiet()
    [card] = env.cards()
    pdf = b"%PDF-1.4\n" + b"2" * 3000
    answer = await env.command(
        "reply",
        {"text": "Here it is", "file": ("invoice.pdf", pdf)},
        channel=env.staff_thread(card),
    )
    assert answer.startswith("Reply sent on T-1")
    await env.quiet()
    reply = env.posts(dc.add_dm(env.alice).id)[-1]
    assert reply.content.startswith("**bob:** Here it is")
    [copied] = reply.attachments
    assert copied["filename"] == "invoice.pdf" and dc._cdn[int(copied["id"])] == pdf
    [row] = [m for m in await env.rows(t.messages) if m.author_kind == "agent"]
    assert row.visibility == "public"
    [stored] = row.attachments
    assert (stored["filename"], stored["size"]) == ("invoice.pdf", len(pdf))
    assert stored["url"].startswith(dc.http_url)  # the upload's CDN link
    # without a file the same command still answers with text only
    await env.command("reply", {"text": "Anything else?"}, channel=env.staff_thread(card))
    await env.quiet()
    last = env.posts(dc.add_dm(env.alice).id)[-1]
    assert "Anything else?" in last.content and last.attachments == []
