"""The README and .env.example name every setting and every command, so docs cannot drift."""

from __future__ import annotations

import importlib.util

from bot.config import Settings
from tests.conftest import REPO


def _readme_tables() -> object:
    spec = importlib.util.spec_from_file_location(
        "readme_tables", REPO / "scripts/readme_tables.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tables_are_current() -> None:
    readme = (REPO / "README.md").read_text()
    current = _readme_tables().render(readme)  # type: ignore[attr-defined]
    assert readme == current, "README.md is out of date: run scripts/readme_tables.py"


def test_every_setting_is_in_env_example() -> None:
    example = (REPO / ".env.example").read_text()
    for name in Settings.model_fields:
        env = f"DESKBOT_{name.upper()}"
        assert f"\n{env}=" in example, f"{env} missing from .env.example"
