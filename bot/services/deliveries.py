"""Writes outbound messages as outbox rows, addressed by audience; nothing is sent here."""

from __future__ import annotations

from typing import Any

from bot.domain.model import Ticket
from bot.messages import ConversationRef
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork


class Deliveries:
    """Addressing rules in one place: customers get their conversations, agents the triage side.

    Internal notes are only ever written with the `agents` audience: the customer audience is
    reachable solely through `to_customer`, which no note path calls.
    """

    def __init__(self, uow: UnitOfWork, core: Core) -> None:
        self.uow = uow
        self.core = core

    def _row(
        self,
        ticket: Ticket | None,
        platform: str,
        audience: str,
        kind: str,
        conversation_key: str,
        text: str,
        **extra: Any,
    ) -> None:
        now = self.core.clock.now()
        payload = {"ref": ticket.ref, "subject": ticket.subject} if ticket else {}
        payload.update(extra.pop("payload", None) or {})
        extra.setdefault("recipient", None)
        extra.setdefault("edit_key", None)
        self.uow.outbox.add(
            ticket_id=ticket.id if ticket else None,
            platform=platform,
            audience=audience,
            kind=kind,
            conversation_key=conversation_key,
            text=text,
            payload=payload,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            **extra,
        )

    async def customer_conversations(
        self, ticket: Ticket, *, with_merged: bool = True
    ) -> list[str]:
        keys = [ticket.conversation_key]
        if with_merged:
            for source in await self.uow.tickets.merged_sources(ticket.id):
                if source.conversation_key not in keys:
                    keys.append(source.conversation_key)
        return keys

    async def to_customer(
        self,
        ticket: Ticket,
        kind: str,
        text: str,
        *,
        exclude: str | None = None,
        with_merged: bool = True,
        payload: dict[str, Any] | None = None,
    ) -> None:
        for key in await self.customer_conversations(ticket, with_merged=with_merged):
            if key == exclude:
                continue
            conv = ConversationRef.from_key(key)
            self._row(ticket, conv.platform, "customer", kind, key, text, payload=payload)

    def status_mark(self, ticket: Ticket) -> None:
        """The ticket's state shown on the customer's conversation, edited in place.

        Only for platforms that asked for it (Policy.status_platforms); the text is the status
        word alone, so nothing internal can reach the customer this way.
        """
        conv = ConversationRef.from_key(ticket.conversation_key)
        if conv.platform not in self.core.policy.status_platforms:
            return
        self._row(
            ticket,
            conv.platform,
            "customer",
            "status",
            ticket.conversation_key,
            ticket.status.value,
            edit_key=f"status:{ticket.id}",
            payload={"status": ticket.status.value, "assignee": ticket.assignee_name},
        )

    def to_agents(
        self,
        ticket: Ticket,
        kind: str,
        text: str,
        *,
        edit_key: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        for platform in self.core.policy.agent_platforms:
            # the customer's conversation tells adapters which server a ticket belongs to
            data = {"queue": ticket.queue, "conversation": ticket.conversation_key}
            data.update(payload or {})
            self._row(
                ticket,
                platform,
                "agents",
                kind,
                f"{platform}:agents:{ticket.id}",
                text,
                edit_key=edit_key,
                payload=data,
            )

    def team_of(self, ticket: Ticket) -> tuple[str, str]:
        """Which triage channel a ticket's team messages go to, as adapters decide it: the
        queue's, and on some platforms the one of the customer's server (their channel)."""
        conv = ConversationRef.from_key(ticket.conversation_key)
        server = conv.channel if conv.platform in self.core.policy.triage_by_server else ""
        return ticket.queue, server

    def to_team(self, queue: str, conversation_key: str, kind: str, text: str) -> None:
        """A message about no single ticket to the triage channel of ``queue`` (adapters post
        it at the top of that channel); ``conversation_key`` is a customer conversation of the
        queue, which tells adapters whose server it is, as for a ticket's messages."""
        for platform in self.core.policy.agent_platforms:
            self._row(
                None,
                platform,
                "agents",
                kind,
                f"{platform}:agents:queue/{queue}",
                text,
                payload={"queue": queue, "conversation": conversation_key},
            )

    async def to_agent(self, agent_id: int, ticket: Ticket | None, kind: str, text: str) -> None:
        """A direct message to one agent, on the first agent platform they are known on."""
        idents = await self.uow.agents.identities(agent_id)
        for platform in self.core.policy.agent_platforms:
            for ident_platform, external_id in idents:
                if ident_platform == platform:
                    self._row(
                        ticket,
                        platform,
                        "agents",
                        kind,
                        f"{platform}:dm:{external_id}",
                        text,
                        recipient=external_id,
                    )
                    return
