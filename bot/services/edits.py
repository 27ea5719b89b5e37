"""Edits and deletions of recorded messages: kept on the ticket, never silently lost."""

from __future__ import annotations

from bot.domain import commands as c
from bot.domain import events as ev
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork


async def edit_message(cmd: c.EditMessage, uow: UnitOfWork, core: Core) -> bool:
    """Apply an edit or deletion; the earlier text stays in the message's edit record.

    Answers False when there is nothing to record (unknown message, same text, already
    deleted), so redelivered platform events change nothing.
    """
    row = await uow.messages.by_external(cmd.platform, cmd.message_id)
    if row is None:
        return False
    if cmd.deleted and row.deleted_at is not None:
        return False
    if not cmd.deleted and row.text == cmd.text:
        return False
    ticket = await uow.tickets.get(row.ticket_id)
    if ticket is None:
        return False
    now = core.clock.now()
    await uow.messages.record_edit(row, cmd.text, now, deleted=cmd.deleted)
    ticket._record(
        ev.MessageEdited(
            ticket.id, row.author_name, now, message_id=row.id, text=cmd.text, deleted=cmd.deleted
        )
    )
    return True
