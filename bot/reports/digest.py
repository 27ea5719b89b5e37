"""The weekly digest: at a set weekday and local time, a report is posted to the leads' channel.

The scheduler calls `DigestJob.run(now)` on each sweep. The outbox is the record of what was
posted (kind "report", agents audience), so a restart neither loses nor repeats a digest; one
missed by more than `GRACE` (deskbot was down) is skipped rather than posted late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.reports.config import DigestSchedule
from bot.reports.figures import Scope
from bot.reports.periods import parse_period, zone_of
from bot.reports.render import sections
from bot.reports.request import ReportRequest
from bot.reports.service import build_report, sla_policies_of

log = logging.getLogger(__name__)

GRACE = timedelta(days=1)
KIND = "report"


def last_slot(schedule: DigestSchedule, now: datetime) -> datetime:
    """The latest scheduled instant at or before `now` (UTC)."""
    zone = zone_of(schedule.tz)
    day = now.astimezone(zone).date()
    for back in range(8):
        candidate_day = day - timedelta(days=back)
        if candidate_day.weekday() != schedule.weekday:
            continue
        slot = datetime.combine(candidate_day, schedule.at, tzinfo=zone).astimezone(UTC)
        if slot <= now:
            return slot
    raise AssertionError("a weekday recurs within 8 days")  # pragma: no cover


class DigestJob:
    """Posts the digest once per scheduled slot; `run` returns True when it posted."""

    def __init__(
        self,
        uow_factory: Callable[[], Any],
        core: Any,
        schedule: DigestSchedule,
    ) -> None:
        self.uow_factory = uow_factory
        self.core = core
        self.schedule = schedule

    async def run(self, now: datetime | None = None) -> bool:
        now = now or self.core.clock.now()
        slot = last_slot(self.schedule, now)
        if now - slot > GRACE:
            return False
        s = self.schedule
        async with self.uow_factory() as uow:
            if await self._posted(uow, slot):
                return False
            repo = uow.reports
        # built outside any transaction: the repository reads on connections of its own
        period = parse_period(s.period, now, s.tz)
        policies = sla_policies_of(self.core.policy.sla)
        report = await build_report(
            repo, ReportRequest(period=s.period), period, Scope(), now, policies
        )
        text = "Weekly digest\n\n" + "\n\n".join(sections(report))
        platform = s.platform or self.core.policy.agent_platforms[0]
        async with self.uow_factory() as uow:
            if await self._posted(uow, slot):  # another worker was quicker
                return False
            uow.outbox.add(
                ticket_id=None,
                platform=platform,
                audience="agents",
                kind=KIND,
                conversation_key=f"{platform}:{s.channel}:",
                recipient=None,
                edit_key=None,
                text=text,
                payload={"digest": slot.isoformat(), "period": period.label, "channel": s.channel},
                status="queued",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            await uow.commit()
        log.info("report digest for %s posted to %s:%s", period.label, platform, s.channel)
        return True

    @staticmethod
    async def _posted(uow: Any, slot: datetime) -> bool:
        last = await uow.reports.last_digest_at()
        return last is not None and _aware(last) >= slot


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
