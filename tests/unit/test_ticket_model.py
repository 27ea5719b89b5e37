"""The Ticket aggregate and its rules, with no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import events as ev
from bot.domain.errors import AlreadyClaimed, IllegalTransition
from bot.domain.model import Agent, CustomerMessageOutcome, Role, Ticket
from bot.domain.status import TRANSITIONS, Priority, Status, allowed_from

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)
BOB = Agent(1, "bob")
CAROL = Agent(2, "carol")


def ticket(**kw: object) -> Ticket:
    base = dict(
        id=1,
        ref="T-1",
        subject="printer",
        customer_id=1,
        conversation_key="console:alice:",
        origin="console",
        created_at=T0,
    )
    base.update(kw)
    return Ticket(**base)  # type: ignore[arg-type]


def test_claim_opens_a_new_ticket_and_sets_expiry() -> None:
    t = ticket()
    t.claim(BOB, at=T0, timeout=timedelta(minutes=20))
    assert t.status == Status.OPEN and t.assignee_name == "bob"
    assert t.claim_expires_at == T0 + timedelta(minutes=20)
    assert [type(e) for e in t.events] == [ev.TicketClaimed, ev.StatusChanged]


def test_second_claim_is_refused_naming_the_owner() -> None:
    t = ticket()
    t.claim(BOB, at=T0, timeout=None)
    with pytest.raises(AlreadyClaimed, match="already claimed by bob"):
        t.claim(CAROL, at=T0, timeout=None)
    with pytest.raises(AlreadyClaimed, match="by you"):
        t.claim(BOB, at=T0, timeout=None)


def test_first_response_is_the_first_public_reply_not_the_claim() -> None:
    t = ticket()
    t.claim(BOB, at=T0, timeout=timedelta(minutes=20))
    assert t.first_response_at is None
    assert t.agent_replied(BOB, at=T0 + timedelta(minutes=5)) is True
    assert t.first_response_at == T0 + timedelta(minutes=5)
    assert t.claim_expires_at is None  # the assignee acted
    assert t.agent_replied(BOB, at=T0 + timedelta(minutes=9)) is False


def test_reply_on_new_ticket_opens_it() -> None:
    t = ticket()
    t.agent_replied(BOB, at=T0)
    assert t.status == Status.OPEN


@pytest.mark.parametrize("status", [Status.PENDING, Status.RESOLVED])
def test_customer_message_reopens_pending_and_resolved(status: Status) -> None:
    t = ticket(status=status)
    assert t.customer_wrote(at=T0, reopen_window=WINDOW) == CustomerMessageOutcome.REOPENED
    assert t.status == Status.OPEN


def test_closed_ticket_reopens_inside_window_and_not_after() -> None:
    inside = ticket(status=Status.CLOSED, closed_at=T0)
    out = inside.customer_wrote(at=T0 + WINDOW - timedelta(seconds=1), reopen_window=WINDOW)
    assert out == CustomerMessageOutcome.REOPENED and inside.status == Status.OPEN
    after = ticket(status=Status.CLOSED, closed_at=T0)
    out = after.customer_wrote(at=T0 + WINDOW + timedelta(seconds=1), reopen_window=WINDOW)
    assert out == CustomerMessageOutcome.NEEDS_NEW_TICKET and after.status == Status.CLOSED
    assert after.events == []


def test_on_hold_stays_on_hold_when_customer_writes() -> None:
    t = ticket(status=Status.ON_HOLD)
    assert t.customer_wrote(at=T0, reopen_window=WINDOW) == CustomerMessageOutcome.ADDED
    assert t.status == Status.ON_HOLD


def test_illegal_transition_says_what_is_allowed() -> None:
    t = ticket(status=Status.CLOSED)
    with pytest.raises(IllegalTransition, match="it can move to: open"):
        t.change_status(Status.PENDING, actor="bob", at=T0)
    with pytest.raises(IllegalTransition, match="already closed"):
        t.change_status(Status.CLOSED, actor="bob", at=T0)


def test_merged_is_terminal_and_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert allowed_from(Status.MERGED) == []
    assert Status.MERGED in TRANSITIONS[Status.OPEN]


def test_merge_records_an_event_on_both_tickets() -> None:
    source, target = ticket(id=2, ref="T-2"), ticket()
    source.merge_into(target, actor="bob", at=T0)
    assert source.status == Status.MERGED and source.merged_into_id == 1
    assert any(isinstance(e, ev.TicketMerged) for e in source.events)
    assert any(isinstance(e, ev.TicketMerged) for e in target.events)
    with pytest.raises(IllegalTransition):
        target.merge_into(target, actor="bob", at=T0)


def test_transfer_returns_an_assigned_ticket_to_the_new_queue() -> None:
    t = ticket()
    t.claim(BOB, at=T0, timeout=None)
    t.transfer("billing", actor="bob", at=T0)
    assert t.queue == "billing" and t.assignee_id is None


def test_priority_and_tags_refuse_no_op_changes() -> None:
    t = ticket()
    t.set_priority(Priority.URGENT, actor="bob", at=T0)
    with pytest.raises(IllegalTransition):
        t.set_priority(Priority.URGENT, actor="bob", at=T0)
    t.add_tag("vip", actor="bob", at=T0)
    with pytest.raises(IllegalTransition):
        t.add_tag("vip", actor="bob", at=T0)
    t.remove_tag("vip", actor="bob", at=T0)
    assert t.tags == []
    assert Priority.HIGH.raised() == Priority.URGENT and Priority.URGENT.raised() == Priority.URGENT


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.at_least(Role.LEAD) and Role.LEAD.at_least(Role.AGENT)
    assert not Role.CUSTOMER.at_least(Role.AGENT)
