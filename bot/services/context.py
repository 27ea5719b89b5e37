"""What handlers share: policy values from settings, the clock, and who an identity is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain.errors import Forbidden, NotFound
from bot.domain.model import Agent, Customer, Role
from bot.domain.refs import RefFormat
from bot.messages import Identity
from bot.reports.config import ReportConfig
from bot.services.automation_config import AutomationConfig
from bot.services.ports import Clock
from bot.services.sla_config import SlaConfig
from bot.services.unit_of_work import UnitOfWork


@dataclass
class Policy:
    """Rules that come from settings rather than code."""

    refs: RefFormat = field(default_factory=RefFormat)
    default_queue: str = "general"
    reopen_window: timedelta = timedelta(days=7)
    claim_timeout: timedelta | None = timedelta(minutes=20)
    first_response_text: str = "4 hours"
    agent_platforms: tuple[str, ...] = ("console",)
    role_ids: dict[str, Role] = field(default_factory=dict)
    team_alias: str | None = None
    # Platforms whose adapters show ticket status on the customer's conversation (Slack
    # reactions): they get one edit-in-place "status" row per change.
    status_platforms: tuple[str, ...] = ()
    # Platforms whose adapters pick the triage channel by the server the customer wrote on
    # (Discord: the staff channel of that guild); messages about several tickets are grouped
    # per server on them (bot/services/deliveries.py: team_of).
    triage_by_server: tuple[str, ...] = ()
    # Most acknowledgements one customer gets per day on a platform (email loop protection,
    # issue 5): platform -> cap. Platforms not listed are not capped.
    ack_caps: dict[str, int] = field(default_factory=dict)
    automation: AutomationConfig = field(default_factory=AutomationConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    reports: ReportConfig = field(default_factory=ReportConfig)


@dataclass
class Actor:
    """An identity resolved to a role: an agent (with their record) or a customer."""

    identity: Identity
    role: Role
    agent: Agent | None = None

    @property
    def name(self) -> str:
        return self.agent.name if self.agent else self.identity.name

    @property
    def is_agent(self) -> bool:
        return self.agent is not None

    def require(self, role: Role) -> Agent:
        if self.agent is None or not self.role.at_least(role):
            raise Forbidden(f"Sorry, only {role.value}s can do that.")
        return self.agent


@dataclass
class Core:
    """Handlers' shared dependencies (built once by bootstrap)."""

    policy: Policy
    clock: Clock

    async def actor(self, uow: UnitOfWork, identity: Identity) -> Actor:
        """Agents are known by identity, or by the role lists in settings (then recorded)."""
        agent = await uow.agents.by_identity(identity.platform, identity.external_id)
        if agent is None:
            role = self._role_from_settings(identity)
            if role is not None:
                agent = await uow.agents.by_name(identity.name)
                if agent is None:
                    agent = await uow.agents.add(identity.name, role, self.clock.now())
                await uow.agents.add_identity(agent.id, identity.platform, identity.external_id)
        if agent is None or not agent.active:
            return Actor(identity, Role.CUSTOMER)
        return Actor(identity, agent.role, agent)

    def _role_from_settings(self, identity: Identity) -> Role | None:
        keys = [f"{identity.platform}:{identity.external_id}", identity.external_id]
        keys += [f"{identity.platform}:{g}" for g in identity.groups] + list(identity.groups)
        roles = [self.policy.role_ids[k] for k in keys if k in self.policy.role_ids]
        return max(roles, key=lambda r: r.rank) if roles else None

    async def customer(self, uow: UnitOfWork, identity: Identity) -> Customer:
        """The customer behind an identity; a verified email joins an existing record."""
        found = await uow.customers.by_identity(identity.platform, identity.external_id)
        if found:
            return found
        if identity.email and identity.email_verified:
            same = await uow.customers.by_email(identity.email)
            if same:
                await uow.customers.add_identity(same.id, identity)
                return same
        return await uow.customers.add(identity, self.clock.now())

    def ticket_id(self, ref: str) -> int:
        tid = self.policy.refs.parse(ref)
        if tid is None:
            raise NotFound(
                f"{ref!r} is not a ticket reference (like {self.policy.refs.format(12)})."
            )
        return tid
