"""Knowledge-base articles, their full-text search (FTS5 / tsvector) and per-ticket suggestions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.kb_text import coverage, query_terms
from storage import tables as t
from storage.bulk import insert_many
from storage.catalog_cache import Catalog

_SQLITE_SEARCH = text(
    "SELECT a.id, bm25(kb_fts, 10.0, 1.0, 5.0, 5.0) AS score FROM kb_fts "
    "JOIN kb_articles a ON a.id = kb_fts.rowid "
    "WHERE kb_fts MATCH :q AND a.state IN :states AND a.visibility IN :vis "
    "ORDER BY score LIMIT :n"
).bindparams(bindparam("states", expanding=True), bindparam("vis", expanding=True))
_PG_SEARCH = text(
    "SELECT a.id, ts_rank(a.search, q) AS score FROM kb_articles a, "
    "to_tsquery('english', :q) q "
    "WHERE a.search @@ q AND a.state IN :states AND a.visibility IN :vis "
    "ORDER BY score DESC, a.id LIMIT :n"
).bindparams(bindparam("states", expanding=True), bindparam("vis", expanding=True))


_SUGGESTIONS_MANY = (
    select(t.kb_articles, t.kb_suggestions.c.solved_at, t.kb_suggestions.c.ticket_id)
    .join(t.kb_suggestions, t.kb_suggestions.c.article_id == t.kb_articles.c.id)
    .where(t.kb_suggestions.c.ticket_id.in_(bindparam("tids", expanding=True)))
    .order_by(t.kb_suggestions.c.ticket_id, t.kb_suggestions.c.rank)
)


def _coverage(article: Any, terms: list[str]) -> int:
    return coverage([article.title, article.body, *article.keywords, *article.tags], terms)


class KbRepository:
    """Articles by id or slug, search behind one method, and suggestions made on tickets."""

    def __init__(self, conn: AsyncConnection, catalog: Catalog | None = None) -> None:
        self._conn = conn
        self._catalog = catalog or Catalog(conn, None)
        self._pending: list[dict[str, Any]] = []
        self._offered: dict[int, list[Any]] = {}
        self._any_public: bool | None = None
        self._postgres = conn.dialect.name == "postgresql"

    async def get(self, article_id: int) -> Any:
        stmt = select(t.kb_articles).where(t.kb_articles.c.id == article_id)
        return (await self._conn.execute(stmt)).first()

    async def by_slug(self, slug: str) -> Any:
        stmt = select(t.kb_articles).where(t.kb_articles.c.slug == slug)
        return (await self._conn.execute(stmt)).first()

    async def browse(self, *, states: Sequence[str] = (), limit: int = 50) -> list[Any]:
        stmt = select(t.kb_articles).order_by(t.kb_articles.c.id).limit(limit)
        if states:
            stmt = stmt.where(t.kb_articles.c.state.in_(list(states)))
        return list((await self._conn.execute(stmt)).all())

    async def add(self, **values: Any) -> int:
        self._catalog.mark_changed()
        self._any_public = None
        stmt = insert(t.kb_articles).values(**values).returning(t.kb_articles.c.id)
        return int((await self._conn.execute(stmt)).scalar_one())

    async def update(self, article_id: int, **values: Any) -> None:
        self._catalog.mark_changed()
        self._any_public = None
        await self._conn.execute(
            update(t.kb_articles).where(t.kb_articles.c.id == article_id).values(**values)
        )

    async def any_public(self) -> bool:
        """Whether any article could be offered to customers (asked once per unit of work)."""
        if self._any_public is None:
            self._any_public = bool(await self._catalog.get("any_public_kb", self._load_any))
        return self._any_public

    async def _load_any(self) -> bool:
        a = t.kb_articles.c
        stmt = select(a.id).where(a.state == "published", a.visibility == "public").limit(1)
        return (await self._conn.execute(stmt)).first() is not None

    async def search(
        self,
        query: str,
        *,
        limit: int = 5,
        public_only: bool = True,
        published_only: bool = True,
    ) -> list[tuple[Any, float]]:
        """Best matches first as (article row, score); any word of the query may match.

        SQLite ranks with FTS5's bm25 (title weighted highest), PostgreSQL with ts_rank over a
        weighted tsvector; both stem English words. Always limited.
        """
        terms = query_terms(query)
        if not terms:
            return []
        params: dict[str, Any] = {
            "states": ["published"] if published_only else ["draft", "published"],
            "vis": ["public"] if public_only else ["public", "internal"],
            "n": max(1, min(limit * 4, 50)),  # candidates, re-ranked below
        }
        if self._postgres:
            stmt = _PG_SEARCH
            params["q"] = " | ".join(terms)
        else:
            stmt = _SQLITE_SEARCH
            params["q"] = " OR ".join(f'"{w}"' for w in terms)
        rows = (await self._conn.execute(stmt, params)).all()
        ids = [r.id for r in rows]
        if not ids:
            return []
        found = {
            a.id: a
            for a in await self._conn.execute(
                select(t.kb_articles).where(t.kb_articles.c.id.in_(ids))
            )
        }
        sign = 1.0 if self._postgres else -1.0  # bm25: lower is better
        ranked = [(found[r.id], sign * float(r.score)) for r in rows if r.id in found]
        # Articles sharing more of the query's words first, the database's rank within ties:
        # the same order on both databases, and a title hit on one word no longer wins alone.
        ranked.sort(key=lambda pair: -_coverage(pair[0], terms))
        return ranked[:limit]

    # --- suggestions on tickets: written with the ticket, at flush ---------------------------
    def suggest(self, ticket_id: int, articles: Sequence[Any]) -> None:
        """Remember the articles offered on a new ticket (also when none were found)."""
        self._offered[ticket_id] = list(articles)
        for rank, article in enumerate(articles, 1):
            self._pending.append({"ticket_id": ticket_id, "article_id": article.id, "rank": rank})

    async def flush(self) -> None:
        if self._pending:
            await insert_many(self._conn, t.kb_suggestions, self._pending)
            self._pending = []

    async def suggestions(self, ticket_id: int) -> list[Any]:
        """Articles offered on a ticket, in rank order (including ones not yet flushed)."""
        if ticket_id in self._offered:
            return self._offered[ticket_id]
        s, a = t.kb_suggestions.c, t.kb_articles.c
        stmt = (
            select(t.kb_articles, s.solved_at)
            .join(t.kb_suggestions, s.article_id == a.id)
            .where(s.ticket_id == ticket_id)
            .order_by(s.rank)
        )
        rows = list((await self._conn.execute(stmt)).all())
        self._offered[ticket_id] = rows
        return rows

    async def prefetch_suggestions(self, ticket_ids: list[int]) -> None:
        """Answer `suggestions` for many tickets with one query (cards of a batch)."""
        wanted = [tid for tid in dict.fromkeys(ticket_ids) if tid not in self._offered]
        if not wanted:
            return
        for tid in wanted:
            self._offered[tid] = []
        for row in (await self._conn.execute(_SUGGESTIONS_MANY, {"tids": wanted})).all():
            self._offered[row.ticket_id].append(row)

    async def mark_solved(self, ticket_id: int, article_id: int, at: datetime) -> None:
        s = t.kb_suggestions.c
        await self._conn.execute(
            update(t.kb_suggestions)
            .where(s.ticket_id == ticket_id, s.article_id == article_id)
            .values(solved_at=at)
        )
