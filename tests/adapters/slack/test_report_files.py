"""`/report` answers with files: the chart PNG and the CSV are uploaded to the lead's DM."""

from __future__ import annotations

import struct

from tests.adapters.slack.conftest import ALICE, BOB, LEE, TRIAGE, SlackEnv


async def test_report_uploads_the_chart_and_the_csv(env: SlackEnv) -> None:
    await env.say(ALICE, "VPN drops every hour")
    await env.quiet()
    await env.command(BOB, "claim T-1")
    await env.command(BOB, "resolve T-1")
    await env.driver.slash_command("/report", "7d", LEE, TRIAGE)  # chart is the default
    await env.quiet(within=60)
    [chart] = env.slack.files.values()
    assert chart.filename.endswith(".png") and chart.content is not None
    assert chart.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", chart.content[16:24])  # the IHDR chunk
    assert width >= 400 and height >= 200 and len(chart.content) > 5_000
    dm = env.slack.dm_channel(LEE).id
    assert chart.shared_to == [dm]
    # the upload went the supported way: URL, bytes, complete (files.upload is retired)
    assert [c.method for c in env.slack.calls if "file" in c.method or c.method == "upload"] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [share] = [m for m in env.slack.messages(dm) if m.files]
    assert share.files and share.files[0]["name"] == chart.filename
    await env.driver.slash_command("/report", "7d format:csv", LEE, TRIAGE)
    await env.quiet(within=60)
    csv = next(f for f in env.slack.files.values() if f.filename.endswith(".csv"))
    assert csv.content is not None and csv.shared_to == [dm]
    header, *rows = csv.content.decode().splitlines()
    assert "T-1" in csv.content.decode() and len(rows) == 1 and "," in header


async def test_report_files_are_not_uploaded_for_a_refused_report(env: SlackEnv) -> None:
    await env.driver.slash_command("/report", "7d", ALICE, TRIAGE)
    await env.quiet()
    assert env.responses()[-1].startswith("Sorry")
    assert env.slack.files == {}
