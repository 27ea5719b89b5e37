"""The whole real-world mail corpus through the intake into a real database: nothing crashes,
nothing is lost, and no automatic mail opens a ticket or earns an acknowledgement."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from adapters.email.cli import iter_mail_files
from adapters.email.intake import IntakeResult, MailIntake
from storage import tables as t
from tests.adapters.email.desk import running_desk
from tests.adapters.email.test_corpus import CORPUS, RecordProperty

BATCH = 50


async def test_every_corpus_mail_is_recorded_or_deliberately_left(
    db_url: str, tmp_path: Path, record_property: RecordProperty
) -> None:
    files = [f for f in iter_mail_files(CORPUS) if f.name != "PROVENANCE.md"]
    # parsing in two worker processes, as a busy site would run it
    async with running_desk(
        db_url, tmp_path, None, lmtp_listen=None, email_parse_processes=2
    ) as desk:
        intake = desk.adapter.intake
        assert isinstance(intake, MailIntake)
        results: dict[Path, IntakeResult] = {}
        started = time.perf_counter()
        for start in range(0, len(files), BATCH):
            batch = files[start : start + BATCH]
            got = await asyncio.gather(*(intake.deliver(f.read_bytes()) for f in batch))
            results.update(zip(batch, got, strict=True))
        elapsed = time.perf_counter() - started
        outcomes = Counter(r.outcome for r in results.values())
        record_property(
            "corpus_figure",
            f"intake: {len(files)} mails in {elapsed:.1f} s on {db_url.split(':')[0]}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
        )
        for f, result in results.items():
            if result.automatic is not None:  # bounce, report, auto-reply, list: no new ticket
                assert result.outcome in ("ignored", "bounce", "automatic", "duplicate"), f
        opened = sum(1 for r in results.values() if r.outcome in ("opened", "unparseable"))
        tickets = await desk.tickets()
        assert len(tickets) == opened > 0
        # every mail is either a message on a ticket or deliberately not recorded
        recorded = {r.message_id for r in results.values() if r.ticket}
        stored = {r.external_id for r in await desk.rows(t.messages)}
        assert recorded <= stored
        # acknowledgements only for tickets of human mail, none for unreadable mail
        acks = await desk.rows(t.outbox, t.outbox.c.kind == "ack")
        flagged = {x.id for x in tickets if "unparseable" in x.tags}
        assert not {a.ticket_id for a in acks} & flagged
        assert outcomes["unparseable"] == len(flagged) > 0
