"""Every SQLite connection deskbot opens gets the settings the hot path was measured with."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from storage.engine import CACHE_KIB, CHECKPOINT_PAGES, create_engine


async def test_connections_get_wal_checkpoint_and_cache_settings(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'e.db'}")
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout",
                             "wal_autocheckpoint", "cache_size")
            }  # fmt: skip
        assert pragmas == {
            "journal_mode": "wal",
            "synchronous": 1,  # NORMAL
            "foreign_keys": 1,
            "busy_timeout": 30000,
            "wal_autocheckpoint": CHECKPOINT_PAGES,  # 500: shorter stalls in group commits
            "cache_size": -CACHE_KIB,
        }
        assert CHECKPOINT_PAGES == 500 and CACHE_KIB == 32 * 1024
    finally:
        await engine.dispose()
