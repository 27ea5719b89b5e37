"""Auto-assignment: per-queue strategy (manual, round_robin, least_loaded, skills).

Only active, available agents who are members of the ticket's queue, on shift (working hours
in settings) and under their capacity are chosen. Every decision runs under the assignment
lock (storage: a row lock held to commit on PostgreSQL), so two workers assigning at once see
each other's choices: the round-robin cursor advances once per ticket and nobody goes over
capacity. Ties in least-loaded and skills are broken round-robin, so they stay fair too.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import DomainError
from bot.domain.model import Agent, Ticket
from bot.domain.status import ACTIVE
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

ACTOR = "deskbot"
ACTIVE_VALUES = tuple(s.value for s in ACTIVE)


@dataclass(frozen=True)
class Outcome:
    """What auto-assignment did: `strategy` "manual" means it was not asked to."""

    strategy: str
    agent: Agent | None = None

    @property
    def waiting(self) -> bool:
        """Auto-assignment is on for the queue but nobody could take the ticket."""
        return self.strategy != "manual" and self.agent is None


async def queue_settings(uow: UnitOfWork, queue: str) -> dict[str, object]:
    row = await uow.queues.get(queue)
    return dict(row.settings or {}) if row is not None else {}


async def strategy_for(uow: UnitOfWork, core: Core, queue: str) -> str:
    return core.policy.automation.queue_strategy(await queue_settings(uow, queue))


def rotate(agents: list[Agent], after: int | None) -> list[Agent]:
    """Agents ordered by id, starting with the first one after the cursor."""
    ordered = sorted(agents, key=lambda a: a.id)
    if after is None:
        return ordered
    split = next((i for i, a in enumerate(ordered) if a.id > after), len(ordered))
    return ordered[split:] + ordered[:split]


def choose(
    strategy: str,
    candidates: list[Agent],
    loads: dict[int, int],
    cursor: int | None,
    tags: Collection[str] = (),
) -> Agent | None:
    """Pure choice among eligible agents (availability already checked)."""
    free = [a for a in rotate(candidates, cursor) if loads.get(a.id, 0) < a.capacity]
    if strategy == "skills":
        wanted = {t.casefold() for t in tags}
        free = [a for a in free if wanted <= {s.casefold() for s in a.skills}]
    if not free:
        return None
    if strategy == "round_robin":
        return free[0]
    # least_loaded and skills: fewest open tickets; min() keeps the rotation order on ties
    return min(free, key=lambda a: loads.get(a.id, 0))


async def eligible_agents(
    uow: UnitOfWork, core: Core, queue: str, at: datetime, exclude: Collection[int] = ()
) -> list[Agent]:
    cfg = core.policy.automation
    return [
        a
        for a in await uow.agents.list()
        if a.active
        and a.available
        and a.id not in exclude
        and queue in a.queues
        and cfg.agent_on_shift(a.name, at)
    ]


async def loads_of(uow: UnitOfWork, agents: list[Agent]) -> dict[int, int]:
    """Open tickets per agent, counting this unit's unsaved changes (group commit) too."""
    seen = uow.tickets.seen
    loads = await uow.assignment.open_loads([a.id for a in agents], ACTIVE_VALUES, list(seen))
    for ticket in seen.values():
        if ticket.assignee_id is not None and ticket.status in ACTIVE:
            loads[ticket.assignee_id] = loads.get(ticket.assignee_id, 0) + 1
    return loads


async def auto_assign(
    ticket: Ticket, uow: UnitOfWork, core: Core, *, exclude: Collection[int] = ()
) -> Outcome:
    """Assign `ticket` by its queue's strategy; leaves it in the queue when nobody is free."""
    strategy = await strategy_for(uow, core, ticket.queue)
    if strategy == "manual" or ticket.assignee_id is not None or ticket.status not in ACTIVE:
        return Outcome("manual" if strategy == "manual" else strategy, None)
    now = core.clock.now()
    await uow.assignment.lock()
    candidates = await eligible_agents(uow, core, ticket.queue, now, exclude)
    loads = await loads_of(uow, candidates)
    cursor = await uow.assignment.cursor(ticket.queue)
    agent = choose(strategy, candidates, loads, cursor, ticket.tags)
    if agent is None:
        log.info("%s: no agent available in queue %s (%s)", ticket.ref, ticket.queue, strategy)
        return Outcome(strategy, None)
    try:
        ticket.assign(agent, actor=ACTOR, at=now, timeout=core.policy.claim_timeout)
    except DomainError as exc:
        log.info("%s: auto-assignment skipped: %s", ticket.ref, exc)
        return Outcome(strategy, None)
    await uow.assignment.set_cursor(ticket.queue, agent.id, now)
    return Outcome(strategy, agent)


async def waiting_for_agent(ticket: Ticket, uow: UnitOfWork, core: Core) -> bool:
    """For the card: auto-assignment is on, the ticket is unassigned and nobody can take it."""
    return ticket.id in await waiting_for_agents([ticket], uow, core)


async def waiting_for_agents(tickets: list[Ticket], uow: UnitOfWork, core: Core) -> set[int]:
    """:func:`waiting_for_agent` for the cards of a batch: the queue's strategy, candidates
    and loads are read once per queue, not once per ticket."""
    out: set[int] = set()
    per_queue: dict[str, tuple[str, list[Agent], dict[int, int]] | None] = {}
    now = core.clock.now()
    for ticket in tickets:
        if ticket.assignee_id is not None or ticket.status not in ACTIVE:
            continue
        if ticket.queue not in per_queue:
            strategy = await strategy_for(uow, core, ticket.queue)
            if strategy == "manual":
                per_queue[ticket.queue] = None
            else:
                candidates = await eligible_agents(uow, core, ticket.queue, now)
                per_queue[ticket.queue] = (strategy, candidates, await loads_of(uow, candidates))
        known = per_queue[ticket.queue]
        if known is not None and choose(known[0], known[1], known[2], None, ticket.tags) is None:
            out.add(ticket.id)
    return out


async def assign_waiting(
    uow: UnitOfWork, core: Core, queues: Collection[str], *, limit: int = 50
) -> int:
    """Give tickets waiting in `queues` to whoever is free now (an agent came back, or finished
    a ticket); oldest first among the newest `limit`. Returns how many were assigned."""
    assigned = 0
    for queue in dict.fromkeys(queues):
        if await strategy_for(uow, core, queue) == "manual":
            continue
        waiting = await uow.tickets.search(
            statuses=list(ACTIVE_VALUES), queues=[queue], unassigned=True, limit=limit
        )
        for ticket in sorted(waiting, key=lambda t: t.id):
            if ticket.merged_into_id is not None:
                continue
            if (await auto_assign(ticket, uow, core)).agent is None:
                break
            assigned += 1
    return assigned
