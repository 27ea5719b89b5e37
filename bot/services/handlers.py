"""The handler registry: which handler runs each command."""

from __future__ import annotations

from bot.domain import commands as c
from bot.services import admin, automation_handlers, bounces, edits, ingest, sla_admin, timers
from bot.services import ticket_handlers as th
from bot.services.messagebus import Handler, Prefetcher

HANDLERS: dict[type[c.Command], Handler] = {
    c.IngestMessage: ingest.ingest_message,
    c.OpenTicket: ingest.open_explicit,
    c.ClaimTicket: th.claim,
    c.UnclaimTicket: th.unclaim,
    c.AssignTicket: th.assign,
    c.TransferTicket: th.transfer,
    c.ReplyToTicket: th.reply,
    c.AddNote: th.note,
    c.SetPriority: th.set_priority,
    c.ChangeTags: th.change_tags,
    c.ChangeStatus: th.change_status,
    c.ReopenTicket: th.reopen,
    c.CustomerCloseTicket: th.customer_close,
    c.MergeTickets: th.merge,
    c.LinkTickets: th.link,
    c.ExpireClaim: th.expire_claim,
    c.FireTimers: timers.fire_timers,
    c.FireDueTimers: timers.fire_due_timers,
    c.SnoozeTicket: timers.snooze,
    c.SetSlaPolicy: sla_admin.set_policy,
    c.AddAgent: admin.add_agent,
    c.RemoveAgent: admin.remove_agent,
    c.SetRole: admin.set_role,
    c.SetAvailability: admin.set_availability,
    c.AddQueue: admin.add_queue,
    c.RemoveQueue: admin.remove_queue,
    c.SaveCanned: admin.save_canned,
    c.RemoveCanned: admin.remove_canned,
    c.MergeCustomers: admin.merge_customers,
    c.EditMessage: edits.edit_message,
    c.RecordBounce: bounces.record_bounce,
}

HANDLERS.update(automation_handlers.HANDLERS)  # type: ignore[arg-type]  # issue 7

PREFETCHERS: dict[type[c.Command], Prefetcher] = {
    c.IngestMessage: ingest.prefetch_ingest,
    c.FireTimers: timers.prefetch_timers,
}
