"""SQLAlchemy Core tables: the schema, with the indexes the scheduler, lists and ingest ask for."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from storage.sqlite_datetime import SqliteDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


TS = DateTime(timezone=True).with_variant(SqliteDateTime(timezone=True), "sqlite")
ID = BigInteger().with_variant(Integer, "sqlite")

customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("tier", String(50)),
    Column("locale", String(20)),
    Column("merged_into_id", ID, ForeignKey("customers.id")),
    Column("created_at", TS, nullable=False),
    Index("ix_customers_email", "email"),
    sqlite_autoincrement=True,
)

identities = Table(
    "identities",
    metadata,
    Column("id", ID, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("external_id", String(320), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("display_name", String(200)),
    Column("email", String(320)),
    Column("phone", String(40)),
    UniqueConstraint("platform", "external_id"),
    Index("ix_identities_customer", "customer_id"),
    sqlite_autoincrement=True,
)

agents = Table(
    "agents",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False, server_default="agent"),
    Column("available", Boolean, nullable=False, server_default=text("true")),
    Column("capacity", Integer, nullable=False, server_default="10"),
    Column("queues", JSON, nullable=False, default=list),
    Column("skills", JSON, nullable=False, default=list),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", TS, nullable=False),
    sqlite_autoincrement=True,
)

agent_identities = Table(
    "agent_identities",
    metadata,
    Column("platform", String(20), primary_key=True),
    Column("external_id", String(320), primary_key=True),
    Column("agent_id", ID, ForeignKey("agents.id"), nullable=False),
)

queues = Table(
    "queues",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("description", Text),
    Column("triage", JSON, nullable=False, default=dict),
    Column("settings", JSON, nullable=False, default=dict),
    Column("active", Boolean, nullable=False, server_default=text("true")),
)


def _timer_index(name: str, column: str) -> Index:
    """`(status, column)` over the tickets whose timer `column` is set (migration 0010)."""
    where = text(f"{column} IS NOT NULL")
    return Index(
        f"ix_tickets_status_{name}", "status", column, sqlite_where=where, postgresql_where=where
    )


tickets = Table(
    "tickets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("subject", String(500), nullable=False),
    Column("status", String(20), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("queue", String(100), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("assignee_id", ID, ForeignKey("agents.id")),
    Column("tags", JSON, nullable=False, default=list),
    Column("origin", String(20), nullable=False),
    Column("conversation_key", String(400), nullable=False),
    Column("merged_into_id", ID, ForeignKey("tickets.id")),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("first_response_at", TS),
    Column("resolved_at", TS),
    Column("closed_at", TS),
    Column("last_customer_message_at", TS),
    Column("last_agent_message_at", TS),
    Column("claim_expires_at", TS),
    # SLA (timed automation): due times are columns so "what is due" is an indexed query
    Column("sla_policy", String(100)),
    Column("first_response_due", TS),
    Column("next_response_due", TS),
    Column("resolution_due", TS),
    Column("warn_at", TS),
    Column("remind_at", TS),
    Column("auto_close_at", TS),
    Column("paused_at", TS),
    Column("first_response_secs", Integer),
    Column("resolution_secs", Integer),
    # reports (migration 0008): wall-clock seconds from creation to the first response and to
    # the resolution (both instants truncated to the second), written with the event
    # (storage/rows.py), so the report reads them from an index instead of parsing timestamps
    Column("first_response_wall_secs", Integer),
    Column("resolution_wall_secs", Integer),
    # SLA engine (issue 6, migrations 0002 and 0013): the ticket's planned SLA alarms
    # (warning, breach, escalation steps) as a JSON map of times; each pending one is also a
    # row of `sla_alarms`, which is what the scheduler reads. Paused business seconds so far.
    Column("sla_timers", JSON),
    Column("paused_secs", Integer),
    # the earliest due time of a ticket whose clock runs, breached ones included (migration
    # 0011): "breaching soon" (`list due:1h`, App Home) is one range of its partial index
    Column("sla_due_at", TS),
    Column("version", Integer, nullable=False, server_default="1"),
    Index("ix_tickets_conversation", "conversation_key", "id"),
    # The scheduler's timers (storage/timers_repo.py), each holding only the tickets whose
    # timer is set (migration 0010): the queries compare the column, so they can use them.
    _timer_index("claim", "claim_expires_at"),
    _timer_index("remind", "remind_at"),
    _timer_index("autoclose", "auto_close_at"),
    Index(
        "ix_tickets_sla_due",
        "sla_due_at",
        sqlite_where=text("sla_due_at IS NOT NULL"),
        postgresql_where=text("sla_due_at IS NOT NULL"),
    ),
    Index("ix_tickets_assignee_status", "assignee_id", "status"),
    Index("ix_tickets_customer", "customer_id", "id"),
    Index("ix_tickets_queue_status", "queue", "status"),
    Index("ix_tickets_created", "created_at"),
    # reports (issue 8, migrations 0003 and 0008): tickets by the time of each event, with
    # what the durations read (created_at: the backlog's resolved tickets)
    Index(
        "ix_tickets_resolved",
        "resolved_at",
        "created_at",
        "resolution_wall_secs",
        "resolution_secs",
        "assignee_id",
    ),
    Index(
        "ix_tickets_first_response",
        "first_response_at",
        "first_response_wall_secs",
        "first_response_secs",
        "assignee_id",
    ),
    Index("ix_tickets_closed", "closed_at"),
    # reports (migration 0006): the backlog (active tickets by age, per agent) from the index
    Index("ix_tickets_status_created", "status", "created_at", "assignee_id"),
    sqlite_autoincrement=True,
)

# SLA alarms not fired yet (issue 6, migration 0013): one row per planned alarm, keyed by its
# time first, so the due ones are one range at the start of the key and firing them deletes a
# few neighbouring pages instead of rewriting each ticket's wide, many-indexed row. Written
# when a unit plans an alarm (storage/alarms_repo.py); a row whose ticket no longer plans that
# alarm at that time is stale and is dropped unfired when it comes due. SQLite keeps the
# rows in key order (WITHOUT ROWID).
sla_alarms = Table(
    "sla_alarms",
    metadata,
    Column("at", TS, primary_key=True),
    Column("ticket_id", ID, ForeignKey("tickets.id"), primary_key=True),
    Column("alarm", String(60), primary_key=True),
    sqlite_with_rowid=False,
)

# reports (migration 0008): one row per tag of a ticket, kept with the ticket's `tags` by the
# ticket repository, so the report's tag counts are index range counts (no JSON per ticket)
ticket_tags = Table(
    "ticket_tags",
    metadata,
    Column("ticket_id", ID, ForeignKey("tickets.id"), primary_key=True),
    Column("tag", Text, primary_key=True),
    Column("created_at", TS, nullable=False),  # the ticket's
    Index("ix_ticket_tags_tag_created", "tag", "created_at"),
)

# SLA policies set with `/sla set` (issue 6): each row is a whole policy in the settings-file
# shape; it replaces the file's policy of the same name or adds one at `position`.
sla_policies = Table(
    "sla_policies",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer),
    Column("data", JSON, nullable=False),
    Column("updated_by", String(200)),
    Column("updated_at", TS, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", ID, primary_key=True),
    Column("ticket_id", ID, ForeignKey("tickets.id"), nullable=False),
    Column("platform", String(20), nullable=False),
    Column("external_id", String(400)),
    Column("author_kind", String(10), nullable=False),
    Column("author_id", ID),
    Column("author_name", String(200), nullable=False),
    Column("visibility", String(10), nullable=False),
    Column("text", Text, nullable=False),
    Column("attachments", JSON),
    Column("flags", JSON),
    Column("created_at", TS, nullable=False),
    Column("edited_at", TS),
    Column("deleted_at", TS),
    UniqueConstraint("platform", "external_id"),
    Index("ix_messages_ticket", "ticket_id", "id"),
    # reports: agent replies per period, read from the index alone (0003)
    Index("ix_messages_kind_created", "author_kind", "created_at", "visibility", "author_id"),
    # reports: one agent's public replies in a window, counted in one index range (0006)
    Index("ix_messages_author_created", "author_kind", "visibility", "author_id", "created_at"),
    sqlite_autoincrement=True,
)

history = Table(
    "history",
    metadata,
    Column("id", ID, primary_key=True),
    # no foreign key (migration 0014): a sweep writes hundreds of rows at once, and the key's
    # per-row check was a third of that INSERT on PostgreSQL; tickets are never deleted, and
    # the tests check that no row names a missing ticket (tests/conftest.py)
    Column("ticket_id", ID, nullable=False),
    Column("at", TS, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("old", String(500)),
    Column("new", String(500)),
    Column("data", JSON),
    Index("ix_history_ticket", "ticket_id", "id"),
    Index("ix_history_kind_at", "kind", "at"),
    # reports: reopenings and SLA breaches by target, read from the index alone (0006)
    Index("ix_history_kind_new_at", "kind", "new", "at", "old", "ticket_id"),
    sqlite_autoincrement=True,
)

ticket_links = Table(
    "ticket_links",
    metadata,
    Column("a_id", ID, ForeignKey("tickets.id"), primary_key=True),
    Column("b_id", ID, ForeignKey("tickets.id"), primary_key=True),
    Column("kind", String(20), nullable=False, server_default="related"),
    Column("created_at", TS, nullable=False),
)

canned_answers = Table(
    "canned_answers",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("body", Text, nullable=False),
    Column("created_by", String(200)),
    Column("created_at", TS, nullable=False),
)

_FAILED = text("status = 'failed'")  # partial indexes of the outbox (migration 0009)
_SENT = text("external_id IS NOT NULL")

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True),
    Column("ticket_id", ID),  # no foreign key, as history (migration 0014)
    Column("platform", String(20), nullable=False),
    Column("audience", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("conversation_key", String(400), nullable=False),
    Column("recipient", String(320)),
    Column("edit_key", String(200)),
    Column("text", Text, nullable=False),
    Column("payload", JSON),
    Column("status", String(10), nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("next_attempt_at", TS, nullable=False),
    Column("locked_until", TS),
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS),
    Column("external_id", String(400)),
    Index("ix_outbox_status_next", "status", "next_attempt_at", "id"),
    Index("ix_outbox_conversation", "conversation_key", "status", "id"),
    # Partial (migration 0009): rows are written queued and without a platform id, so these
    # cost nothing when a message is written. A ticket's failed deliveries (card, `show`):
    Index("ix_outbox_failed", "ticket_id", sqlite_where=_FAILED, postgresql_where=_FAILED),
    # Email (migration 0005): a reply's In-Reply-To or a bounce names the Message-ID we sent.
    Index(
        "ix_outbox_platform_external",
        "platform",
        "external_id",
        sqlite_where=_SENT,
        postgresql_where=_SENT,
    ),
    sqlite_autoincrement=True,
)

platform_refs = Table(
    "platform_refs",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("platform", String(20), primary_key=True),
    Column("external_id", String(400), nullable=False),
    Column("conversation_key", String(400)),
)

# --- automation (issue 7): routing rules, assignment cursors, CSAT, knowledge base ---------------

routing_rules = Table(
    "routing_rules",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_by", String(200)),
    Column("created_at", TS, nullable=False),
)

# One row per queue holds the round-robin cursor; the row "*" is the assignment lock.
assignment_cursors = Table(
    "assignment_cursors",
    metadata,
    Column("queue", String(100), primary_key=True),
    Column("agent_id", ID),
    Column("updated_at", TS),
)

ratings = Table(
    "ratings",
    metadata,
    Column("ticket_id", ID, ForeignKey("tickets.id"), primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("survey_sent_at", TS),
    Column("score", Integer),
    Column("comment", Text),
    Column("rated_at", TS),
    Column("changed_at", TS),
    Index("ix_ratings_customer_sent", "customer_id", "survey_sent_at"),
    Index("ix_ratings_rated_at", "rated_at"),
    Index("ix_ratings_survey_sent", "survey_sent_at"),  # reports: response rate (0003)
)

kb_articles = Table(
    "kb_articles",
    metadata,
    Column("id", ID, primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("tags", JSON, nullable=False, default=list),
    Column("keywords", JSON, nullable=False, default=list),
    Column("visibility", String(10), nullable=False, server_default="public"),
    Column("state", String(10), nullable=False, server_default="draft"),
    Column("author", String(200)),
    Column("approved_by", String(200)),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("published_at", TS),
    Index("ix_kb_articles_state_visibility", "state", "visibility"),
    sqlite_autoincrement=True,
)

kb_suggestions = Table(
    "kb_suggestions",
    metadata,
    Column("ticket_id", ID, ForeignKey("tickets.id"), primary_key=True),
    Column("article_id", ID, ForeignKey("kb_articles.id"), primary_key=True),
    Column("rank", Integer, nullable=False),
    Column("solved_at", TS),
)

# One row, bumped by triggers whenever agents, queues, routing rules or the KB's published
# articles change (migration 0012): storage/catalog_cache.py keeps those between units of work.
catalog_version = Table(
    "catalog_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)
