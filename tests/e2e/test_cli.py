"""The `deskbot` command itself, run as a process the way users and scripts run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

DESKBOT = [sys.executable, "-m", "bot.cli"]


def run(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run deskbot with no platform credentials and a fresh SQLite database in tmp_path."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DESKBOT_")}
    environ.update(
        DESKBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/d.db", PYTHONPATH=str(REPO), **env
    )
    return subprocess.run(
        DESKBOT + args,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=60,
    )


def test_console_script_json_from_stdin(tmp_path: Path) -> None:
    script = ":agent bob\nalice: hello there\nbob@T-1: /claim\nalice: /claim\n"
    proc = run(["console", "--script", "-", "--json"], tmp_path, script)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[0] == {
        "to": "alice",
        "audience": "customer",
        "ticket": "T-1",
        "kind": "ack",
        "text": lines[0]["text"],
    }
    assert {d["kind"] for d in lines} >= {"ack", "card", "result", "error"}
    assert set(lines[0]) == {"to", "audience", "ticket", "kind", "text"}


def test_broken_script_line_exits_non_zero(tmp_path: Path) -> None:
    proc = run(["console", "--script", "-", "--json"], tmp_path, "alice hello\n")
    assert proc.returncode == 2 and "line 1" in proc.stderr


def test_run_without_credentials_starts_the_console(tmp_path: Path) -> None:
    proc = run(["run"], tmp_path, "alice: my printer is on fire\n:quit\n")
    assert proc.returncode == 0, proc.stderr
    assert "starting the console" in proc.stderr
    assert "T-1" in proc.stdout and "ack" in proc.stdout


def test_older_or_foreign_database_stops_start_up(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "d.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE something_else (id INTEGER)")
    con.commit()
    con.close()
    proc = run(["console", "--script", "-"], tmp_path, "alice: hi\n")
    assert proc.returncode == 1 and "no deskbot schema version" in proc.stderr


def test_migrate_command(tmp_path: Path) -> None:
    proc = run(["migrate"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "database schema: empty →" in proc.stdout
