"""Knowledge base: articles offered on new tickets, `solved`, and Markdown folder import."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.domain.kb_text import coverage, query_terms
from bot.domain.model import Ticket
from bot.domain.status import ACTIVE, Status
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

VISIBILITIES = ("public", "internal")
SOLVED_REASON = "solved by a knowledge-base article"
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class ArticleDraft:
    """An article as written (command or Markdown file), before it is stored."""

    title: str
    body: str
    slug: str = ""
    tags: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    visibility: str = "public"
    state: str | None = None

    def values(self, author: str, at: datetime, *, publish: bool) -> dict[str, Any]:
        state = self.state or ("published" if publish else "draft")
        return {
            "slug": self.slug or slugify(self.title),
            "title": self.title[:300],
            "body": self.body,
            "tags": self.tags,
            "keywords": self.keywords,
            "visibility": self.visibility if self.visibility in VISIBILITIES else "public",
            "state": state,
            "author": author,
            "approved_by": author if state == "published" else None,
            "created_at": at,
            "updated_at": at,
            "published_at": at if state == "published" else None,
        }


def slugify(title: str) -> str:
    return _SLUG.sub("-", title.lower()).strip("-")[:200] or "article"


def article_coverage(article: Any, terms: list[str]) -> int:
    return coverage([article.title, article.body, *article.keywords, *article.tags], terms)


async def best_public(uow: UnitOfWork, text: str, limit: int) -> list[Any]:
    """Published public articles worth offering for `text`: ranked, sharing ≥ 2 of its words."""
    if limit <= 0 or not await uow.kb.any_public():
        return []
    terms = query_terms(text)
    need = min(2, len(terms))
    found = await uow.kb.search(text, limit=limit * 3, public_only=True)
    return [a for a, _ in found if article_coverage(a, terms) >= need][:limit]


async def offer(ticket: Ticket, body: str, uow: UnitOfWork, core: Core) -> None:
    """On a new ticket: remember the best articles; the ack and the card show them."""
    limit = core.policy.automation.kb_suggestions
    articles = await best_public(uow, f"{ticket.subject}\n{body}", limit) if limit else []
    uow.kb.suggest(ticket.id, articles)


async def solve(ticket: Ticket, uow: UnitOfWork, core: Core) -> bool:
    """ "This solved it": resolve the ticket when articles were offered on it and it is open."""
    if ticket.status not in ACTIVE:
        return False
    articles = await uow.kb.suggestions(ticket.id)
    if not articles:
        return False
    now = core.clock.now()
    ticket.change_status(Status.RESOLVED, actor="customer", at=now, reason=SOLVED_REASON)
    await uow.kb.mark_solved(ticket.id, articles[0].id, now)
    return True


# --- Markdown import ------------------------------------------------------------------------
def _listish(value: str) -> list[str]:
    return [v.strip().strip("'\"") for v in value.strip().strip("[]").split(",") if v.strip()]


def parse_markdown(text: str, stem: str) -> ArticleDraft:
    """A Markdown file with optional `---` front matter (title, tags, keywords, visibility,
    state, slug); without a title the first `# heading`, else the file name, is used."""
    meta: dict[str, str] = {}
    body = text
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
        if end is not None:
            for line in lines[1:end]:
                key, sep, value = line.partition(":")
                if sep:
                    meta[key.strip().lower()] = value.strip()
            body = "\n".join(lines[end + 1 :])
    body = body.strip()
    title = meta.get("title", "").strip("'\"")
    if not title:
        heading = next((ln for ln in body.splitlines() if ln.startswith("# ")), None)
        title = heading[2:].strip() if heading else stem.replace("-", " ").replace("_", " ")
    return ArticleDraft(
        title=title,
        body=body,
        slug=meta.get("slug") or slugify(stem),
        tags=_listish(meta.get("tags", "")),
        keywords=_listish(meta.get("keywords", "")),
        visibility=meta.get("visibility", "public").lower(),
        state=meta.get("state", "").lower() or None,
    )


def read_folder(folder: Path) -> list[ArticleDraft]:
    """One draft per `*.md` file under `folder` (recursively), in path order."""
    return [
        parse_markdown(path.read_text(encoding="utf-8"), path.stem)
        for path in sorted(folder.rglob("*.md"))
    ]


async def import_drafts(
    drafts: list[ArticleDraft], uow: UnitOfWork, author: str, at: datetime
) -> list[str]:
    """Add or update (by slug) each article; imported articles are published unless their
    front matter says `state: draft`. Returns what happened to each."""
    report = []
    for draft in drafts:
        values = draft.values(author, at, publish=True)
        existing = await uow.kb.by_slug(values["slug"])
        if existing is None:
            aid = await uow.kb.add(**values)
            report.append(f"added KB-{aid} {draft.title}")
        else:
            values.pop("created_at")
            await uow.kb.update(existing.id, **values)
            report.append(f"updated KB-{existing.id} {draft.title}")
    return report
