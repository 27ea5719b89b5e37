"""The bulk insert path stores exactly what SQLAlchemy's own executemany stores."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import cast, delete, insert, select
from sqlalchemy.types import Text

from storage import bulk
from storage import tables as t
from storage.bulk import UNNEST_FROM, insert_many, update_many
from storage.engine import create_engine
from storage.migrate import migrate

AT = datetime(2026, 3, 29, 1, 30, 5, 120, tzinfo=UTC)


def outbox_row(text: str, payload: object, **kw: object) -> dict[str, object]:
    return {
        "platform": "console",
        "audience": "customer",
        "kind": "reply",
        "conversation_key": "console:alice:",
        "text": text,
        "payload": payload,
        "next_attempt_at": AT,
        "created_at": AT,
        **kw,
    }


async def test_rows_match_sqlalchemy_executemany(db_url: str) -> None:
    engine = create_engine(db_url)
    await migrate(engine)
    rows = [
        outbox_row("a", {"attachments": [{"filename": "č.png", "size": 3}]}),
        outbox_row("b", None),
        outbox_row("c", ["x"], recipient="bob", sent_at=AT),  # another column set
        # a group large enough for PostgreSQL's one-statement path (INSERT … FROM unnest)
        *(
            outbox_row(f"m{i}", {"i": i, "q": "'\"]"} if i % 3 else None)
            for i in range(UNNEST_FROM)
        ),
    ]
    # rows that share every column (PostgreSQL sends such columns once, not as arrays)
    same = [outbox_row("s", {"k": "v"}, edit_key="card:1") for _ in range(UNNEST_FROM)]
    rows += same
    stored = []
    try:
        for write in ("sqlalchemy", "bulk"):
            async with engine.begin() as conn:
                if write == "bulk":
                    await insert_many(conn, t.outbox, rows)
                else:  # SQLAlchemy's executemany, one per column set, in the same order
                    await conn.execute(insert(t.outbox), [rows[0], rows[1], *rows[3 : -len(same)]])
                    await conn.execute(insert(t.outbox), rows[2:3])
                    await conn.execute(insert(t.outbox), same)
            async with engine.begin() as conn:
                cols = [t.outbox.c.text, t.outbox.c.payload, t.outbox.c.recipient,
                        t.outbox.c.status, t.outbox.c.attempts, t.outbox.c.sent_at,
                        t.outbox.c.next_attempt_at, cast(t.outbox.c.next_attempt_at, Text),
                        cast(t.outbox.c.payload, Text)]  # fmt: skip
                stored.append((await conn.execute(select(*cols).order_by(t.outbox.c.id))).all())
                await conn.execute(delete(t.outbox))
        assert stored[0] == stored[1]
        if engine.dialect.name == "postgresql":  # shared columns went as single values
            masks = [same for (table, _, same) in bulk._PG_PLANS if table == id(t.outbox)]
            assert any(any(m) and not all(m) for m in masks), masks
        assert [r.text for r in stored[1]][:4] == ["a", "b", "m0", "m1"]
        assert stored[1][0].payload["attachments"][0]["filename"] == "č.png"
        assert stored[1][0].status == "queued" and stored[1][0].attempts == 0
        c_row = stored[1][-len(same) - 1]
        assert c_row.text == "c" and c_row.sent_at.replace(tzinfo=UTC) == AT
        assert [r.payload for r in stored[1][-len(same) :]] == [{"k": "v"}] * len(same)
    finally:
        await engine.dispose()


async def test_update_many_matches_sqlalchemy_update_and_counts_matches(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite's ticket saves go through update_many: same stored text as SQLAlchemy's UPDATE,
    and the count of rows whose WHERE matched (a version check that missed counts 0)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")
    await migrate(engine)
    later = datetime(2026, 3, 30, 8, 0, 0, 7, tzinfo=UTC)
    changes = [("x", {"k": "ž"}, later), ("y", None, later)]
    stored = []
    try:
        for write in ("sqlalchemy", "bulk"):
            async with engine.begin() as conn:
                await insert_many(conn, t.outbox, [outbox_row("a", None), outbox_row("b", [1])])
                ids = list(
                    (await conn.execute(select(t.outbox.c.id).order_by(t.outbox.c.id))).scalars()
                )
                if write == "bulk":
                    rows = [(*c, i, 0) for c, i in zip(changes, ids, strict=True)]
                    rows.append(("z", None, later, ids[0], 5))  # attempts 5: matches nothing
                    keys = ("text", "payload", "next_attempt_at")
                    assert await update_many(conn, t.outbox, keys, ("id", "attempts"), rows) == 2
                else:
                    for (text, payload, at), i in zip(changes, ids, strict=True):
                        await conn.execute(
                            t.outbox.update()
                            .where(t.outbox.c.id == i)
                            .values(text=text, payload=payload, next_attempt_at=at)
                        )
            async with engine.begin() as conn:
                cols = [t.outbox.c.text, cast(t.outbox.c.payload, Text),
                        cast(t.outbox.c.next_attempt_at, Text)]  # fmt: skip
                stored.append((await conn.execute(select(*cols).order_by(t.outbox.c.id))).all())
                await conn.execute(delete(t.outbox))
        assert stored[0] == stored[1]
        assert [r[0] for r in stored[1]] == ["x", "y"]
    finally:
        await engine.dispose()


async def test_update_many_on_both_databases(db_url: str) -> None:
    """One statement per column set (PostgreSQL: UPDATE … FROM unnest): the same stored text
    as SQLAlchemy's UPDATE, and the count of rows whose WHERE matched."""
    engine = create_engine(db_url)
    await migrate(engine)
    later = datetime(2026, 3, 30, 8, 0, 0, 7, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await insert_many(conn, t.outbox, [outbox_row(f"r{i}", None) for i in range(4)])
            ids = list(
                (await conn.execute(select(t.outbox.c.id).order_by(t.outbox.c.id))).scalars()
            )
            rows = [(f"x{i}", {"k": i, "s": "ž'\""}, later, ids[i], 0) for i in range(3)]
            rows.append(("z", None, later, ids[3], 5))  # attempts 5: matches nothing
            keys = ("text", "payload", "next_attempt_at")
            assert await update_many(conn, t.outbox, keys, ("id", "attempts"), rows) == 3
        async with engine.begin() as conn:
            got = (await conn.execute(
                select(t.outbox.c.text, t.outbox.c.payload, t.outbox.c.next_attempt_at)
                .order_by(t.outbox.c.id)
            )).all()  # fmt: skip
        assert [r.text for r in got] == ["x0", "x1", "x2", "r3"]
        assert got[1].payload == {"k": 1, "s": "ž'\""}
        assert got[0].next_attempt_at.replace(tzinfo=UTC) == later
    finally:
        await engine.dispose()
