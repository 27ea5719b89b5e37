"""The SQL unit of work: one connection and transaction, repositories over it, flush at commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.domain.events import Event
from bot.domain.refs import RefFormat
from storage import sqlite_hop
from storage.alarms_repo import AlarmRepository
from storage.automation_repo import AssignmentRepository, RatingRepository, RuleRepository
from storage.catalog_cache import Catalog, shared_for
from storage.catalog_repo import CannedRepository, QueueRepository
from storage.kb_repo import KbRepository
from storage.outbox_repo import OutboxRepository, PlatformRefRepository
from storage.people_repo import AgentRepository, CustomerRepository
from storage.records_repo import HistoryRepository, MessageRepository
from storage.reports_repo import ReportsRepository
from storage.sla_repo import SlaPolicyRepository
from storage.tickets_repo import TicketRepository


class SqlUnitOfWork:
    """`async with uow:` opens a transaction; `commit()` writes buffered rows, then commits.

    Leaving the block without commit rolls back. A unit is used once.
    """

    tickets: TicketRepository
    alarms: AlarmRepository
    customers: CustomerRepository
    agents: AgentRepository
    messages: MessageRepository
    history: HistoryRepository
    outbox: OutboxRepository
    refs_store: PlatformRefRepository
    queues: QueueRepository
    canned: CannedRepository
    sla_policies: SlaPolicyRepository
    rules: RuleRepository
    assignment: AssignmentRepository
    ratings: RatingRepository
    kb: KbRepository
    reports: ReportsRepository

    def __init__(self, engine: AsyncEngine, refs: RefFormat) -> None:
        self._engine = engine
        self._refs = refs
        self._conn: AsyncConnection | None = None
        self.committed = False

    async def __aenter__(self) -> Self:
        self._conn = await self._engine.connect()
        await self._conn.begin()
        conn = self._conn
        catalog = Catalog(conn, shared_for(self._engine.sync_engine))
        self.alarms = AlarmRepository(conn)
        self.tickets = TicketRepository(conn, self._refs, self.alarms)
        self.customers = CustomerRepository(conn)
        self.agents = AgentRepository(conn, catalog)
        self.messages = MessageRepository(conn)
        self.history = HistoryRepository(conn)
        self.outbox = OutboxRepository(conn)
        self.refs_store = PlatformRefRepository(conn)
        self.queues = QueueRepository(conn, catalog)
        self.canned = CannedRepository(conn)
        self.sla_policies = SlaPolicyRepository(conn)
        self.rules = RuleRepository(conn, catalog)
        self.assignment = AssignmentRepository(conn)
        self.ratings = RatingRepository(conn)
        self.kb = KbRepository(conn, catalog)
        self.reports = ReportsRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if not self.committed:
                await self._conn.rollback()
        finally:
            self.tickets.release()
            await self._conn.close()

    def collect_new_events(self) -> list[Event]:
        """Events recorded on loaded tickets since the last call, in order."""
        return self.tickets.take_events()

    async def flush(self) -> None:
        await self.customers.flush()
        await self.tickets.save_all()
        await self.alarms.flush()  # rows of the alarms the saved tickets planned
        await self.messages.flush()
        await self.kb.flush()  # suggestions refer to tickets created in this unit
        await self.history.flush()
        await self.outbox.flush()

    async def commit(self) -> None:
        assert self._conn is not None
        if self._conn.dialect.name != "sqlite":
            await self.flush()
            await self._conn.commit()
        else:  # the buffers' INSERTs and the COMMIT: one thread hop (storage/sqlite_hop.py)
            raw = await self._conn.get_raw_connection()
            with sqlite_hop.commit_writes(raw.driver_connection):
                await self.flush()
                await self._conn.commit()
        self.committed = True

    async def rollback(self) -> None:
        assert self._conn is not None
        await self._conn.rollback()
