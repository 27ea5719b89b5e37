"""Slack files kept here (DESKBOT_SLACK_DOWNLOAD_DIR): downloaded with the bot token, mailed to
email customers as real attachments, uploaded for people who cannot open the Slack original."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from adapters.slack.config import SlackConfig
from adapters.slack.downloads import FileKeeper, safe_name
from storage import tables as t
from tests.adapters.slack.conftest import ALICE, BOB, HELP, TRIAGE, running, slack_settings
from tests.adapters.slack.test_files import body_of, send_mail, slack_and_mail
from tests.adapters.slack.test_manifest import manifest
from tests.fakes.slack_api import FakeSlack

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # 2,056 bytes, every byte value


def local(url: str) -> Path:
    assert url.startswith("file://"), url
    return Path(unquote(urlparse(url).path))


async def test_an_agents_slack_file_reaches_the_email_customer_as_an_attachment(
    sqlite_copy: str, tmp_path: Path
) -> None:
    kept = tmp_path / "slack-files"
    async with slack_and_mail(sqlite_copy, tmp_path, slack_download_dir=str(kept)) as (
        env,
        mail,
        sink,
    ):
        await send_mail(mail)
        await env.quiet()
        [card] = env.cards()
        acks = len(sink.messages)
        shot = env.slack.share_file("fix-steps.png", PNG, user=BOB, mimetype="image/png")
        bot = env.slack.bot_user_id
        await env.say(BOB, f"<@{bot}> reply Here is how", TRIAGE, thread_ts=card.ts, files=[shot])
        await env.quiet()
        [answer] = (await sink.wait_for(acks + 1))[acks:]
        plain, html, attached = body_of(answer.raw)
        [png] = attached
        assert png.get_filename() == "fix-steps.png" and png.get_content_type() == "image/png"
        assert png.get_content() == PNG  # the very bytes shared in Slack
        assert "- fix-steps.png (2.0 KB, attached)" in plain
        assert "slack.com" not in plain and "file://" not in plain + html
        # the download used the bot token; the ticket keeps the copy and the Slack link
        [download] = env.slack.calls_to("file_download")
        assert download.status == 200 and "/download/" in download.args["path"]
        [reply] = [m for m in await env.rows(t.messages) if m.author_kind == "agent"]
        [stored] = reply.attachments
        assert stored["link"] == shot["permalink"] and stored["size"] == len(PNG)
        path = local(stored["url"])
        assert path.parent == kept.resolve() and path.read_bytes() == PNG


async def test_a_file_over_the_cap_stays_a_slack_link(sqlite_copy: str, tmp_path: Path) -> None:
    kept = tmp_path / "slack-files"
    extra = {"slack_download_dir": str(kept), "slack_download_max_bytes": 1000}
    async with slack_and_mail(sqlite_copy, tmp_path, **extra) as (env, mail, sink):
        await send_mail(mail)
        await env.quiet()
        [card] = env.cards()
        acks = len(sink.messages)
        shot = env.slack.share_file("big.png", PNG, user=BOB, mimetype="image/png")
        bot = env.slack.bot_user_id
        await env.say(BOB, f"<@{bot}> reply Too big", TRIAGE, thread_ts=card.ts, files=[shot])
        await env.quiet()
        [answer] = (await sink.wait_for(acks + 1))[acks:]
        plain, _html, attached = body_of(answer.raw)
        assert attached == []
        assert f"- big.png (2.0 KB): {shot['permalink']}" in plain
        assert env.slack.calls_to("file_download") == []  # the declared size said no
        assert not kept.exists() or list(kept.iterdir()) == []


async def test_a_refused_download_keeps_the_link_not_the_sign_in_page(
    sqlite_copy: str, tmp_path: Path
) -> None:
    """Without `files:read` Slack sends the download to its sign-in page: nothing is kept."""
    scopes = [s for s in manifest()["oauth_config"]["scopes"]["bot"] if s != "files:read"]
    kept = tmp_path / "slack-files"
    fake = {"scopes": ",".join(scopes)}
    async with slack_and_mail(sqlite_copy, tmp_path, fake, slack_download_dir=str(kept)) as (
        env,
        mail,
        sink,
    ):
        await send_mail(mail)
        await env.quiet()
        [card] = env.cards()
        acks = len(sink.messages)
        shot = env.slack.share_file("fix-steps.png", PNG, user=BOB, mimetype="image/png")
        bot = env.slack.bot_user_id
        await env.say(BOB, f"<@{bot}> reply See this", TRIAGE, thread_ts=card.ts, files=[shot])
        await env.quiet()
        [answer] = (await sink.wait_for(acks + 1))[acks:]
        plain, _html, attached = body_of(answer.raw)
        assert attached == [] and shot["permalink"] in plain
        [refused] = env.slack.calls_to("file_download")
        assert refused.status == 302
        assert not kept.exists() or list(kept.iterdir()) == []


async def test_with_the_manifests_scopes_files_are_downloaded(
    sqlite_copy: str, tmp_path: Path
) -> None:
    scopes = ",".join(manifest()["oauth_config"]["scopes"]["bot"])
    kept = tmp_path / "slack-files"
    async with running(sqlite_copy, fake={"scopes": scopes}, slack_download_dir=str(kept)) as env:
        shot = env.slack.share_file("log.txt", b"line 1\n", user=ALICE, mimetype="text/plain")
        await env.say(ALICE, "The log", HELP, files=[shot])
        await env.quiet()
        [download] = env.slack.calls_to("file_download")
        assert download.status == 200
        [message] = await env.rows(t.messages, t.messages.c.author_kind == "customer")
        assert local(message.attachments[0]["url"]).read_bytes() == b"line 1\n"


async def test_a_dm_customers_file_is_uploaded_for_agents_and_a_reply_file_for_the_customer(
    sqlite_copy: str, tmp_path: Path
) -> None:
    """Files in a DM with the bot, or in the private triage channel, cannot be opened by the
    other side: the kept copy is uploaded there, and the listing links the Slack original."""
    kept = tmp_path / "slack-files"
    async with running(sqlite_copy, slack_download_dir=str(kept)) as env:
        dm = env.slack.dm_channel(ALICE)
        shot = env.slack.share_file("error.png", PNG, user=ALICE, mimetype="image/png")
        await env.say(ALICE, "It shows this", dm.id, channel_type="im", files=[shot])
        await env.quiet()
        [card] = env.cards()
        relay = next(m for m in env.slack.messages(TRIAGE, card.ts) if "It shows this" in m.text)
        assert f"<{shot['permalink']}|error.png>" in str(relay.blocks)  # never a file:// link
        [copy] = [f for f in env.slack.files.values() if f.filename == "error.png"]
        assert copy.content == PNG and copy.shared_to == [TRIAGE]
        # the agent's answer with a file from the triage thread: uploaded into the DM
        log = env.slack.share_file("steps.txt", b"1. restart\n", user=BOB, mimetype="text/plain")
        bot = env.slack.bot_user_id
        await env.say(BOB, f"<@{bot}> reply Try this", TRIAGE, thread_ts=card.ts, files=[log])
        await env.quiet()
        [sent] = [f for f in env.slack.files.values() if f.filename == "steps.txt"]
        assert sent.content == b"1. restart\n" and sent.shared_to == [dm.id]
        reply = next(m for m in env.slack.messages(dm.id) if "Try this" in m.text)
        assert f"<{log['permalink']}|steps.txt>" in str(reply.blocks)


async def test_stored_names_are_safe_and_stay_in_the_folder(tmp_path: Path) -> None:
    assert safe_name("F0AB", "../../etc/passwd") == "F0AB-passwd"
    assert safe_name("F0AB", "..\\..\\boot.ini") == "F0AB-boot.ini"
    assert safe_name("../F0/..", ".bashrc") == "F0-bashrc"
    assert safe_name("F1", "résumé final (2).pdf") == "F1-r_sum_final_2_.pdf"
    assert safe_name("F2", "..") == "F2-file" and safe_name("", "") == "file-file"
    long = safe_name("F3", "a" * 500 + ".tar.gz")
    assert long.endswith(".gz") and len(long) <= 4 + 120
    async with FakeSlack() as slack:
        settings = slack_settings(slack, "sqlite://", slack_download_dir=str(tmp_path / "keep"))
        keeper = FileKeeper(SlackConfig.from_settings(settings))
        evil = slack.share_file("../../../escape.txt", b"gotcha", mimetype="text/plain")
        [info] = await keeper.keep([evil])
    path = local(str(info.url))
    assert path.parent == (tmp_path / "keep").resolve() and path.read_bytes() == b"gotcha"
    assert info.filename == "../../../escape.txt"  # shown as shared; stored under a safe name
    assert list(tmp_path.glob("**/escape.txt")) == []


def test_the_token_goes_to_slack_and_the_configured_api_only() -> None:
    cfg = SlackConfig(bot_token="xoxb-1", download_dir=Path("/tmp/x"))
    keeper = FileKeeper(cfg)
    assert keeper.trusted("https://files.slack.com/files-pri/T1-F1/download/a.png")
    assert keeper.trusted("https://files.slack-gov.com/files-pri/T1-F1/a.png")
    assert not keeper.trusted("http://files.slack.com/files-pri/T1-F1/a.png")  # not over TLS
    assert not keeper.trusted("https://files.slack.com.evil.example/a.png")
    assert not keeper.trusted("https://evilslack.com/a.png")
    assert not keeper.trusted("https://drive.google.com/file/d/1")
