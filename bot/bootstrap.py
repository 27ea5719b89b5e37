"""The composition root: engine, unit of work, bus, gateway, dispatcher, scheduler, adapters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import AdapterRegistry, ChatAdapter
from adapters.webhook import webhook_adapters
from bot.config import Settings, split_ids
from bot.domain.durations import humanize, parse_duration
from bot.domain.model import Role
from bot.domain.refs import RefFormat
from bot.gateway import Gateway
from bot.reports.config import report_config_from
from bot.reports.digest import DigestJob
from bot.scheduling import Scheduler
from bot.services.automation_config import automation_from
from bot.services.automation_handlers import apply_people
from bot.services.context import Core, Policy
from bot.services.dispatcher import OutboxDispatcher
from bot.services.handlers import HANDLERS, PREFETCHERS
from bot.services.messagebus import MessageBus
from bot.services.ports import Clock, SystemClock
from bot.services.sla_config import sla_config_from
from bot.services.unit_of_work import UnitOfWork
from storage.engine import create_engine
from storage.migrate import ensure_schema
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

DEMO_TEAM = (("ada", Role.ADMIN), ("lee", Role.LEAD), ("bob", Role.AGENT), ("carol", Role.AGENT))


def policy_from(settings: Settings, agent_platforms: tuple[str, ...]) -> Policy:
    role_ids: dict[str, Role] = {}
    for role, value in (
        (Role.AGENT, settings.agents),
        (Role.LEAD, settings.leads),
        (Role.ADMIN, settings.admins),
    ):
        for key in split_ids(value):
            role_ids[key] = role
    for person in settings.structured().get("people", []):
        for key in person.get("ids", []):
            role_ids[key] = Role(person.get("role", "agent"))
    timeout = parse_duration(settings.claim_timeout)
    return Policy(
        refs=RefFormat(settings.ref_prefix),
        default_queue=settings.default_queue,
        reopen_window=parse_duration(settings.reopen_window),
        claim_timeout=timeout if timeout.total_seconds() > 0 else None,
        first_response_text=humanize(parse_duration(settings.first_response_target)),
        agent_platforms=agent_platforms or ("console",),
        role_ids=role_ids,
        team_alias=settings.team_alias,
        sla=sla_config_from(settings, settings.structured()),
        automation=automation_from(settings, settings.structured()),
        reports=report_config_from(settings),
    )


@dataclass
class App:
    """Everything wired together; `start` runs adapters, dispatcher and scheduler."""

    settings: Settings
    engine: AsyncEngine
    core: Core
    bus: MessageBus
    gateway: Gateway
    registry: AdapterRegistry
    dispatcher: OutboxDispatcher
    scheduler: Scheduler
    schema: str
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.core.policy.refs)

    async def start(self, *, background: bool = True) -> None:
        for adapter in self.registry.adapters:
            await adapter.start(self.gateway)
        if background:
            self._tasks.append(asyncio.create_task(self.dispatcher.run_forever()))
            await self.scheduler.start()
        else:
            await self.scheduler.catch_up()  # scripted console: timers still survive a restart

    async def stop(self) -> None:
        self.dispatcher.stop()
        await self.scheduler.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for adapter in self.registry.adapters:
            await adapter.stop()
        await self.engine.dispose()

    async def seed_agent(self, name: str, role: Role, ids: Sequence[str] = ()) -> None:
        """Record an agent from configuration (settings file, demo team, script declarations)."""
        async with self.uow() as uow:
            agent = await uow.agents.add(
                name, role, self.core.clock.now(), [self.core.policy.default_queue]
            )
            for key in ids:
                platform, _, external = key.partition(":")
                await uow.agents.add_identity(agent.id, platform, external)
            await uow.commit()

    async def seed(self, *, demo_team: bool = False) -> None:
        """Default queue, queues and people from the settings file, optionally the demo team."""
        data = self.settings.structured()
        async with self.uow() as uow:
            await uow.queues.add(self.core.policy.default_queue, "Default queue")
            for queue in data.get("queues", []):
                await uow.queues.add(
                    queue["name"],
                    queue.get("description"),
                    queue.get("triage"),
                    queue.get("settings"),
                )
            await uow.commit()
        for person in data.get("people", []):
            await self.seed_agent(
                person["name"], Role(person.get("role", "agent")), person.get("ids", [])
            )
        async with self.uow() as uow:  # queues, skills and capacity for auto-assignment
            await apply_people(uow, data.get("people", []))
            await uow.commit()
        if demo_team:
            for name, role in DEMO_TEAM:
                await self.seed_agent(name, role, [f"console:{name}"])


def platform_adapters(settings: Settings) -> list[ChatAdapter]:
    """The adapters whose credentials are configured (`deskbot run`)."""
    adapters: list[ChatAdapter] = []
    if settings.slack_enabled:
        from adapters.slack import SlackAdapter

        adapters.append(SlackAdapter(settings))
    if settings.discord_enabled:
        from adapters.discord import DiscordAdapter  # sets Route.BASE / DEFAULT_GATEWAY at start

        adapters.append(DiscordAdapter(settings))
    if settings.email_enabled:
        from adapters.email import EmailAdapter

        adapters.append(EmailAdapter(settings))
    return adapters


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    adapters: Sequence[ChatAdapter] = (),
    demo_team: bool = False,
    dispatch_concurrently: bool = True,
) -> App:
    """Wire deskbot. Creates and migrates an empty database; refuses an out-of-date one."""
    engine = create_engine(settings.database_url)
    try:
        schema = await ensure_schema(engine, ref_start=settings.ref_start)
    except Exception:
        await engine.dispose()
        raise
    registry = AdapterRegistry()
    adapters = [*adapters, *webhook_adapters(settings)]  # outbound webhooks (issue 7)
    for adapter in adapters:
        registry.register(adapter)
    core = Core(policy_from(settings, registry.agent_platforms), clock or SystemClock())
    core.policy.status_platforms = tuple(
        a.platform for a in adapters if getattr(a, "status_marks", False)
    )
    core.policy.triage_by_server = tuple(
        a.platform for a in adapters if getattr(a, "triage_by_server", False)
    )
    core.policy.ack_caps = {  # email: acknowledgements per address and day (issue 5)
        a.platform: cap for a in adapters if (cap := getattr(a, "ack_cap_per_day", None))
    }

    def uow_factory() -> UnitOfWork:
        return SqlUnitOfWork(engine, core.policy.refs)

    bus = MessageBus(uow_factory, core, HANDLERS, prefetchers=PREFETCHERS)
    dispatcher = OutboxDispatcher(
        uow_factory,
        registry,
        core.clock,
        bus,
        max_attempts=settings.outbox_max_attempts,
        platforms=tuple(a.platform for a in adapters),
        concurrent=dispatch_concurrently,
        poll_seconds=settings.outbox_poll_seconds,
    )
    bus.on_commit = dispatcher.wake
    scheduler = Scheduler(
        bus, uow_factory, core.clock, interval_seconds=settings.scheduler_interval_seconds
    )
    app = App(
        settings, engine, core, bus, Gateway(bus, core), registry, dispatcher, scheduler, schema
    )
    digest = core.policy.reports.digest
    if digest is not None:  # the weekly report digest (issue 8), checked on each sweep
        scheduler.jobs.append(DigestJob(uow_factory, core, digest).run)
    await app.seed(demo_team=demo_team)
    await scheduler.reload_policies()  # SLA policies changed with `/sla set`
    return app
