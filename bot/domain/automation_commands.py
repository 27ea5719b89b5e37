"""Commands of the automation layer (issue 7): rules, articles, ratings, agent routing data."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.commands import Command, TicketCommand


@dataclass(frozen=True)
class AddRule(Command):
    text: str


@dataclass(frozen=True)
class RemoveRule(Command):
    name: str


@dataclass(frozen=True)
class RerouteTicket(TicketCommand):
    """Run the routing rules again on an existing ticket."""


@dataclass(frozen=True)
class AddArticle(Command):
    text: str


@dataclass(frozen=True)
class PublishArticle(Command):
    article: str


@dataclass(frozen=True)
class RateTicket(TicketCommand):
    score: int
    comment: str | None = None


@dataclass(frozen=True)
class SolveTicket(TicketCommand):
    pass


@dataclass(frozen=True)
class SetAgentField(Command):
    handle: str
    field: str
    value: str
