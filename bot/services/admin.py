"""Handlers for team administration: agents, roles, availability, queues, canned answers."""

from __future__ import annotations

from bot.domain import canned
from bot.domain import commands as c
from bot.domain.errors import IllegalTransition, NotFound
from bot.domain.model import Role
from bot.messages import Reply
from bot.services import assignment
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork


async def add_agent(cmd: c.AddAgent, uow: UnitOfWork, core: Core) -> Reply:
    (await core.actor(uow, cmd.actor)).require(Role.ADMIN)
    name = cmd.name.lstrip("@")
    agent = await uow.agents.add(
        name, Role(cmd.role), core.clock.now(), [core.policy.default_queue]
    )
    await uow.agents.add_identity(agent.id, cmd.actor.platform, cmd.platform_id or name)
    return Reply(
        True,
        f"{agent.name} is now an {cmd.role}."
        if cmd.role[0] in "aeiou"
        else f"{agent.name} is now a {cmd.role}.",
    )


async def remove_agent(cmd: c.RemoveAgent, uow: UnitOfWork, core: Core) -> Reply:
    (await core.actor(uow, cmd.actor)).require(Role.ADMIN)
    agent = await uow.agents.find(cmd.actor.platform, cmd.handle)
    if agent is None:
        raise NotFound(f"No agent called {cmd.handle}.")
    await uow.agents.update(agent.id, active=False)
    return Reply(True, f"{agent.name} is no longer an agent.")


async def set_role(cmd: c.SetRole, uow: UnitOfWork, core: Core) -> Reply:
    (await core.actor(uow, cmd.actor)).require(Role.ADMIN)
    agent = await uow.agents.find(cmd.actor.platform, cmd.handle)
    if agent is None:
        raise NotFound(f"No agent called {cmd.handle}; add them with /agent add.")
    await uow.agents.update(agent.id, role=cmd.role)
    return Reply(True, f"{agent.name} is now {cmd.role}.")


async def set_availability(cmd: c.SetAvailability, uow: UnitOfWork, core: Core) -> Reply:
    agent = (await core.actor(uow, cmd.actor)).require(Role.AGENT)
    await uow.agents.update(agent.id, available=cmd.available)
    if cmd.available:  # tickets that waited for someone free (issue 7)
        await assignment.assign_waiting(uow, core, agent.queues)
    return Reply(
        True,
        "Welcome back: you are available."
        if cmd.available
        else "You are away: no tickets will be assigned to you.",
    )


async def add_queue(cmd: c.AddQueue, uow: UnitOfWork, core: Core) -> Reply:
    (await core.actor(uow, cmd.actor)).require(Role.ADMIN)
    if not await uow.queues.add(cmd.name, cmd.description):
        raise IllegalTransition(f"Queue {cmd.name} already exists.")
    return Reply(True, f"Queue {cmd.name} added.")


async def remove_queue(cmd: c.RemoveQueue, uow: UnitOfWork, core: Core) -> Reply:
    (await core.actor(uow, cmd.actor)).require(Role.ADMIN)
    if cmd.name == core.policy.default_queue:
        raise IllegalTransition(f"{cmd.name} is the default queue and cannot be removed.")
    if not await uow.queues.remove(cmd.name):
        raise NotFound(f"No queue called {cmd.name}.")
    return Reply(True, f"Queue {cmd.name} removed.")


async def save_canned(cmd: c.SaveCanned, uow: UnitOfWork, core: Core) -> Reply:
    actor = await core.actor(uow, cmd.actor)
    agent = actor.require(Role.AGENT)
    canned.validate(cmd.body)
    await uow.canned.put(cmd.name, cmd.body, agent.name, core.clock.now())
    return Reply(True, f"Canned answer {cmd.name} saved.")


async def remove_canned(cmd: c.RemoveCanned, uow: UnitOfWork, core: Core) -> Reply:
    (await core.actor(uow, cmd.actor)).require(Role.AGENT)
    if not await uow.canned.remove(cmd.name):
        raise NotFound(f"No canned answer called {cmd.name}.")
    return Reply(True, f"Canned answer {cmd.name} removed.")


async def merge_customers(cmd: c.MergeCustomers, uow: UnitOfWork, core: Core) -> Reply:
    (await core.actor(uow, cmd.actor)).require(Role.ADMIN)
    source = await uow.customers.find(cmd.source)
    target = await uow.customers.find(cmd.target)
    if source is None or target is None:
        missing = cmd.source if source is None else cmd.target
        raise NotFound(f"No customer called {missing}.")
    if source.id == target.id:
        raise IllegalTransition("Those are already the same customer.")
    await uow.customers.merge(source.id, target.id)
    return Reply(True, f"Customer {source.name} merged into {target.name}.")
