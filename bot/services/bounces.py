"""Delivery reports (mail bounces): the delivery they name is marked failed, on its ticket."""

from __future__ import annotations

from bot.domain.commands import RecordBounce
from bot.domain.events import DeliveryFailed
from bot.domain.status import Visibility
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork


async def record_bounce(cmd: RecordBounce, uow: UnitOfWork, core: Core) -> str | None:
    """Attach a delivery report to the ticket of the message it reports on.

    A permanent failure marks that outbox row `failed` with the report's status and reason
    (agents see it in /show, and hear of it through DeliveryFailed). Returns the ticket's ref,
    or None when the report names nothing we sent. Recording the same report twice changes
    nothing.
    """
    seen = await uow.messages.seen(cmd.platform, cmd.report_id)
    if seen is not None:
        return str(core.policy.refs.format(seen))
    rows = await uow.outbox.by_external(cmd.platform, [cmd.original_id])
    row = next((r for r in rows if r.ticket_id is not None), None)
    ticket = await uow.tickets.get(row.ticket_id) if row is not None else None
    if row is None or ticket is None:
        return None
    now = core.clock.now()
    detail = " ".join(part for part in (cmd.status, cmd.reason) if part) or "no reason given"
    uow.messages.add(
        ticket_id=ticket.id,
        platform=cmd.platform,
        external_id=cmd.report_id,
        author_kind="system",
        author_id=None,
        author_name=cmd.actor.name,
        visibility=Visibility.SYSTEM.value,
        text=cmd.text or f"Delivery report for our {row.kind}: {detail}",
        at=now,
        flags={"automatic": "bounce", "outbox_id": row.id, "status": cmd.status},
    )
    if cmd.permanent and row.status != "failed":
        error = f"bounced: {detail}"
        await uow.outbox.mark_failed(row.id, error)
        ticket._record(DeliveryFailed(ticket.id, "deskbot", now, outbox_id=row.id, error=error))
    return str(ticket.ref)
