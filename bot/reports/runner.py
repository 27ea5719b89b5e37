"""`/report` for the command table, and the pieces the CLI and the digest share with it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain.model import Role
from bot.messages import FileAttachment, Reply
from bot.reports.csv_export import export_csv
from bot.reports.figures import Day, Report, Scope, Side
from bot.reports.periods import PeriodError, parse_period
from bot.reports.render import sections
from bot.reports.request import USAGE, ReportRequest, RequestError, parse_request
from bot.reports.service import build_report, sla_policies_of

if TYPE_CHECKING:
    from bot.gateway import Call
    from bot.services.context import Core
    from bot.services.messagebus import MessageBus

NOT_LEAD = "Sorry, /report is only for leads and admins. Use /report me to see your own figures."


@dataclass
class Output:
    """A finished report: the figures, its text sections and the files to attach."""

    report: Report
    sections: list[str]
    files: tuple[FileAttachment, ...]
    csv_rows: int | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(self.sections)


async def produce(
    bus: MessageBus,
    core: Core,
    request: ReportRequest,
    *,
    scope: Scope,
    tz: str,
    now: datetime | None = None,
    chart: bool = False,
    csv: bool = False,
) -> Output:
    """Run the report's queries in one read-only unit, then render text, chart and CSV."""
    now = now or core.clock.now()
    period = parse_period(request.period, now, tz)
    policies = sla_policies_of(core.policy.sla)
    limit = core.policy.reports.csv_max_rows

    async def reports(uow: Any) -> Any:
        return uow.reports

    # The repository reads on connections of its own, so the unit of work is closed before the
    # report runs: a long report never holds SQLite's write lock (see storage/reports_db.py).
    repo = await bus.query(reports)
    drawing: asyncio.Future[bytes] | None = None

    def draw(days: list[Day]) -> None:  # the chart's days are in: draw while the rest runs
        nonlocal drawing
        from bot.reports.chart import render_chart  # matplotlib only when a chart is asked for

        shown = Report(period, scope, Side(), Side(), days=days)  # what the chart reads
        drawing = asyncio.ensure_future(asyncio.to_thread(render_chart, shown))

    report = await build_report(
        repo, request, period, scope, now, policies, days_ready=draw if chart else None
    )
    exported = None
    if csv:
        rows = repo.export_rows(period.current, scope, limit, report.csat_available)
        exported = await export_csv(rows, tz, now, core.policy.refs.format, policies)
    parts = sections(report)
    stem = _stem(request, period.current.start, tz)
    files: list[FileAttachment] = []
    if drawing is not None:  # drawn in a thread (matplotlib's object API is thread-safe)
        files.append(FileAttachment(f"{stem}.png", "image/png", await drawing))
    rows = None
    if exported is not None:
        data, rows = exported
        files.append(FileAttachment(f"{stem}.csv", "text/csv", data))
        note = f"CSV: {rows} tickets"
        if rows >= limit:
            note += f" (the first {limit}; narrow the period or add queue:NAME for the rest)"
        parts.append(note)
    return Output(report, parts, tuple(files), rows)


def _stem(request: ReportRequest, start: datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    label = request.period.replace("..", "_to_")
    by = f"-by-{request.by}" if request.by else ""
    return f"report-{label}{by}-{start.astimezone(ZoneInfo(tz)):%Y%m%d}"


async def report_command(call: Call) -> Reply:
    """The command table's runner: leads and admins; agents only `/report me`."""
    core = call.gateway.core
    cfg = core.policy.reports
    try:
        request = parse_request(call.args.get("options"), cfg.default_period)
    except RequestError as exc:
        return Reply(False, f"{exc}\nUsage: {USAGE}")
    if not request.me and not call.role.at_least(Role.LEAD):
        return Reply(False, NOT_LEAD)

    async def who(uow: Any) -> Any:
        return await core.actor(uow, call.actor)

    actor = await call.gateway.bus.query(who)
    scope = Scope(queue=request.queue)
    if request.me and actor.agent is not None:
        scope = Scope(request.queue, actor.agent.id, actor.agent.name)
    try:
        out = await produce(
            call.gateway.bus,
            core,
            request,
            scope=scope,
            tz=cfg.tz_for(actor.name),
            chart=request.format == "chart",
            csv=request.format == "csv",
        )
    except PeriodError as exc:
        return Reply(False, f"{exc}\nUsage: {USAGE}")
    data = {"sections": out.sections, "period": out.report.period.label, "by": request.by}
    return Reply(True, out.text, data=data, files=out.files)
