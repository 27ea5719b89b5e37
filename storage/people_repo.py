"""Customers with their identities, and agents with theirs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.model import Agent, Customer, Role
from bot.messages import Identity
from storage import tables as t
from storage.bulk import insert_many
from storage.catalog_cache import Catalog
from storage.ids import IdAllocator
from storage.records_repo import by_platform
from storage.rows import agent_from_row, customer_from_row

_CUSTOMER_BY_IDENTITY = (
    select(t.customers)
    .join(t.identities, t.identities.c.customer_id == t.customers.c.id)
    .where(t.identities.c.platform == bindparam("p"), t.identities.c.external_id == bindparam("x"))
)
_CUSTOMER_BY_ID = select(t.customers).where(t.customers.c.id == bindparam("cid"))
_CUSTOMERS_BY_IDS = select(t.customers).where(
    t.customers.c.id.in_(bindparam("cids", expanding=True))
)
_CUSTOMER_INSERT = insert(t.customers)
_CUSTOMERS_BY_IDENTITIES = (
    select(t.customers, t.identities.c.platform, t.identities.c.external_id)
    .join(t.identities, t.identities.c.customer_id == t.customers.c.id)
    .where(t.identities.c.platform == bindparam("p"))
    .where(t.identities.c.external_id.in_(bindparam("xs", expanding=True)))
)
_AGENTS_BY_IDENTITIES = (
    select(t.agents, t.agent_identities.c.platform, t.agent_identities.c.external_id)
    .join(t.agent_identities, t.agent_identities.c.agent_id == t.agents.c.id)
    .where(t.agent_identities.c.platform == bindparam("p"))
    .where(t.agent_identities.c.external_id.in_(bindparam("xs", expanding=True)))
    .where(t.agents.c.active.is_(True))
)
_ACTIVE_AGENT_IDENTITIES = (
    select(t.agents, t.agent_identities.c.platform, t.agent_identities.c.external_id)
    .join(t.agent_identities, t.agent_identities.c.agent_id == t.agents.c.id)
    .where(t.agents.c.active.is_(True))
)
_IDENTITY_INSERT = insert(t.identities)
_AGENT_BY_IDENTITY = (
    select(t.agents)
    .join(t.agent_identities, t.agent_identities.c.agent_id == t.agents.c.id)
    .where(
        t.agent_identities.c.platform == bindparam("p"),
        t.agent_identities.c.external_id == bindparam("x"),
        t.agents.c.active.is_(True),
    )
)


async def _identity_rows(
    conn: AsyncConnection, stmt: Any, known: dict[tuple[str, str], Any], keys: list[tuple[str, str]]
) -> list[Any]:
    """Rows for the identities in `keys` not yet in `known`, one query per platform.

    Every asked-for key is entered in `known` as None first, so a miss is remembered too.
    """
    wanted = [k for k in dict.fromkeys(keys) if k not in known]
    for key in wanted:
        known[key] = None
    rows: list[Any] = []
    for platform, ids in by_platform(wanted).items():
        rows.extend((await conn.execute(stmt, {"p": platform, "xs": ids})).all())
    return rows


class CustomerRepository:
    """Customers are found by platform identity, then (when verified) by email."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._cache: dict[int, Customer] = {}
        self._by_identity: dict[tuple[str, str], int | None] = {}
        self._pending_customers: list[dict[str, object]] = []
        self._pending_identities: list[dict[str, object]] = []
        self._ids = IdAllocator(conn, "customers")

    async def by_identity(self, platform: str, external_id: str) -> Customer | None:
        key = (platform, external_id)
        if key in self._by_identity:
            cid = self._by_identity[key]
            return await self.get(cid) if cid is not None else None
        row = (
            await self._conn.execute(_CUSTOMER_BY_IDENTITY, {"p": platform, "x": external_id})
        ).first()
        if not row:
            self._by_identity[key] = None
            return None
        customer = await self._resolve(customer_from_row(row), row)
        self._cache[customer.id] = customer
        self._by_identity[key] = customer.id
        return customer

    async def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Resolve many identities in one query (group commit)."""
        rows = await _identity_rows(self._conn, _CUSTOMERS_BY_IDENTITIES, self._by_identity, keys)
        for row in rows:
            key = (row.platform, row.external_id)
            if key in self._by_identity:
                customer = await self._resolve(customer_from_row(row), row)
                self._cache[customer.id] = customer
                self._by_identity[key] = customer.id

    async def flush(self) -> None:
        """Write customers and identities created in this unit (customers first: FK)."""
        if self._pending_customers:
            await insert_many(self._conn, t.customers, self._pending_customers)
            self._pending_customers = []
        if self._pending_identities:
            await insert_many(self._conn, t.identities, self._pending_identities)
            self._pending_identities = []

    async def _resolve(self, customer: Customer, row: object) -> Customer:
        merged = row._mapping["merged_into_id"]  # type: ignore[attr-defined]
        if merged is not None:
            target = await self.get(merged)
            return target or customer
        return customer

    async def by_email(self, email: str) -> Customer | None:
        await self.flush()
        stmt = (
            select(t.customers)
            .where(func.lower(t.customers.c.email) == email.lower())
            .where(t.customers.c.merged_into_id.is_(None))
            .order_by(t.customers.c.id)
            .limit(1)
        )
        row = (await self._conn.execute(stmt)).first()
        return customer_from_row(row) if row else None

    async def get(self, customer_id: int) -> Customer | None:
        if customer_id in self._cache:
            return self._cache[customer_id]
        row = (await self._conn.execute(_CUSTOMER_BY_ID, {"cid": customer_id})).first()
        if not row:
            return None
        customer = await self._resolve(customer_from_row(row), row)
        self._cache[customer_id] = customer
        return customer

    async def prefetch_ids(self, customer_ids: list[int]) -> None:
        """Answer `get` for many customers with one query (cards of a batch of tickets)."""
        wanted = [cid for cid in dict.fromkeys(customer_ids) if cid not in self._cache]
        if wanted:
            for row in (await self._conn.execute(_CUSTOMERS_BY_IDS, {"cids": wanted})).all():
                self._cache[row.id] = await self._resolve(customer_from_row(row), row)

    async def find(self, handle: str) -> Customer | None:
        """By identity id, email or exact name — for admin commands."""
        await self.flush()
        handle = handle.lstrip("@")
        stmt = select(t.identities.c.customer_id).where(t.identities.c.external_id == handle)
        cid = (await self._conn.execute(stmt.limit(1))).scalar()
        if cid is not None:
            return await self.get(cid)
        found = await self.by_email(handle) if "@" in handle else None
        if found:
            return found
        row = (
            await self._conn.execute(
                select(t.customers).where(t.customers.c.name == handle).limit(1)
            )
        ).first()
        return await self._resolve(customer_from_row(row), row) if row else None

    async def add(self, identity: Identity, at: datetime) -> Customer:
        cid = await self._ids.next()
        self._pending_customers.append(
            dict(
                id=cid,
                name=identity.name,
                email=identity.email,
                locale=identity.locale,
                created_at=at,
                tier=None,
                merged_into_id=None,
            )
        )
        await self.add_identity(cid, identity)
        customer = Customer(
            id=cid, name=identity.name, email=identity.email, locale=identity.locale
        )
        self._cache[cid] = customer
        return customer

    async def add_identity(self, customer_id: int, identity: Identity) -> None:
        self._pending_identities.append(
            dict(
                platform=identity.platform,
                external_id=identity.external_id,
                customer_id=customer_id,
                display_name=identity.display_name,
                email=identity.email,
                phone=identity.phone,
            )
        )
        self._by_identity[(identity.platform, identity.external_id)] = customer_id

    async def identities(self, customer_id: int) -> list[tuple[str, str]]:
        await self.flush()
        rows = await self._conn.execute(
            select(t.identities.c.platform, t.identities.c.external_id).where(
                t.identities.c.customer_id == customer_id
            )
        )
        return [(r.platform, r.external_id) for r in rows]

    async def contacts(self, customer_id: int) -> list[str]:
        """Each identity's email and phone, where known: `email · phone (platform)`."""
        await self.flush()
        i = t.identities.c
        rows = await self._conn.execute(
            select(i.platform, i.email, i.phone)
            .where(i.customer_id == customer_id, or_(i.email.is_not(None), i.phone.is_not(None)))
            .order_by(i.id)
        )
        found: list[str] = []
        for r in rows:
            line = f"{' · '.join(v for v in (r.email, r.phone) if v)} ({r.platform})"
            if line not in found:
                found.append(line)
        return found

    async def merge(self, source_id: int, target_id: int) -> None:
        """Join two records: identities and tickets move to the target; the source points at it."""
        await self.flush()
        self._by_identity.clear()
        await self._conn.execute(
            update(t.identities)
            .where(t.identities.c.customer_id == source_id)
            .values(customer_id=target_id)
        )
        await self._conn.execute(
            update(t.tickets)
            .where(t.tickets.c.customer_id == source_id)
            .values(customer_id=target_id)
        )
        await self._conn.execute(
            update(t.customers)
            .where(t.customers.c.id == source_id)
            .values(merged_into_id=target_id)
        )


class AgentRepository:
    """Agents, their platform identities, roles and availability.

    Every inbound message asks whether its author is an agent; all active agents' identities
    are kept between units of work (storage/catalog_cache.py), so that asks nothing."""

    def __init__(self, conn: AsyncConnection, catalog: Catalog | None = None) -> None:
        self._conn = conn
        self._catalog = catalog or Catalog(conn, None)
        self._by_identity: dict[tuple[str, str], Agent | None] = {}

    async def _kept(self) -> dict[tuple[str, str], Any] | None:
        """Every active agent's row by identity, if the catalog may be kept in this unit."""
        if not self._catalog.shared:
            return None
        found: dict[tuple[str, str], Any] = await self._catalog.get("agents", self._load_all)
        return found

    async def _load_all(self) -> dict[tuple[str, str], Any]:
        rows = await self._conn.execute(_ACTIVE_AGENT_IDENTITIES)
        return {(r.platform, r.external_id): r for r in rows}

    async def by_identity(self, platform: str, external_id: str) -> Agent | None:
        key = (platform, external_id)
        if key in self._by_identity:
            return self._by_identity[key]
        kept = await self._kept()
        if kept is not None:
            row = kept.get(key)
        else:
            row = (
                await self._conn.execute(_AGENT_BY_IDENTITY, {"p": platform, "x": external_id})
            ).first()
        agent = agent_from_row(row) if row else None
        self._by_identity[key] = agent
        return agent

    async def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Resolve many identities in one query (group commit), or none when kept."""
        kept = await self._kept()
        if kept is not None:
            for key in keys:
                if key not in self._by_identity:
                    row = kept.get(key)
                    self._by_identity[key] = agent_from_row(row) if row else None
            return
        rows = await _identity_rows(self._conn, _AGENTS_BY_IDENTITIES, self._by_identity, keys)
        for row in rows:
            key = (row.platform, row.external_id)
            if key in self._by_identity:
                self._by_identity[key] = agent_from_row(row)

    async def get(self, agent_id: int) -> Agent | None:
        row = (await self._conn.execute(select(t.agents).where(t.agents.c.id == agent_id))).first()
        return agent_from_row(row) if row else None

    async def by_name(self, name: str) -> Agent | None:
        row = (
            await self._conn.execute(
                select(t.agents).where(func.lower(t.agents.c.name) == name.lower())
            )
        ).first()
        return agent_from_row(row) if row else None

    async def find(self, platform: str, handle: str) -> Agent | None:
        """By platform id (`@U123`, `<@U123>`, `bob`) or by name."""
        handle = handle.strip().removeprefix("<").removesuffix(">").lstrip("@!")
        return await self.by_identity(platform, handle) or await self.by_name(handle)

    async def add(
        self, name: str, role: Role, at: datetime, queues: list[str] | None = None
    ) -> Agent:
        self._catalog.mark_changed()
        existing = await self.by_name(name)
        if existing is None:
            try:
                # Two requests may see the same new agent at once (PostgreSQL, several tasks
                # or workers): the loser of the insert takes the winner's row.
                async with self._conn.begin_nested():
                    aid = (
                        await self._conn.execute(
                            insert(t.agents)
                            .values(
                                name=name,
                                role=role.value,
                                queues=queues or [],
                                skills=[],
                                created_at=at,
                            )
                            .returning(t.agents.c.id)
                        )
                    ).scalar_one()
                return Agent(id=aid, name=name, role=role, queues=queues or [])
            except IntegrityError:
                existing = await self.by_name(name)
                if existing is None:
                    raise
        await self.update(existing.id, role=role.value, active=True)
        existing.role, existing.active = role, True
        return existing

    async def add_identity(self, agent_id: int, platform: str, external_id: str) -> None:
        self._catalog.mark_changed()
        self._by_identity.pop((platform, external_id), None)
        await self._conn.execute(
            delete(t.agent_identities).where(
                t.agent_identities.c.platform == platform,
                t.agent_identities.c.external_id == external_id,
            )
        )
        try:
            async with self._conn.begin_nested():  # a concurrent first sighting may win
                await self._conn.execute(
                    insert(t.agent_identities).values(
                        platform=platform, external_id=external_id, agent_id=agent_id
                    )
                )
        except IntegrityError:
            await self._conn.execute(
                update(t.agent_identities)
                .where(
                    t.agent_identities.c.platform == platform,
                    t.agent_identities.c.external_id == external_id,
                )
                .values(agent_id=agent_id)
            )

    async def identities(self, agent_id: int) -> list[tuple[str, str]]:
        rows = await self._conn.execute(
            select(t.agent_identities.c.platform, t.agent_identities.c.external_id).where(
                t.agent_identities.c.agent_id == agent_id
            )
        )
        return [(r.platform, r.external_id) for r in rows]

    async def update(self, agent_id: int, **values: object) -> None:
        self._catalog.mark_changed()
        self._by_identity.clear()
        await self._conn.execute(update(t.agents).where(t.agents.c.id == agent_id).values(**values))

    async def list(self, *, active_only: bool = True) -> list[Agent]:
        stmt = select(t.agents).order_by(t.agents.c.name)
        if active_only:
            stmt = stmt.where(t.agents.c.active.is_(True))
        return [agent_from_row(r) for r in await self._conn.execute(stmt)]
