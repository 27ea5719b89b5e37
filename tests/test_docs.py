"""The README and .env.example name every setting and every command, so docs cannot drift."""

from __future__ import annotations

from bot.commands import TABLE
from bot.config import Settings
from tests.conftest import REPO


def test_every_setting_is_documented() -> None:
    readme = (REPO / "README.md").read_text()
    example = (REPO / ".env.example").read_text()
    for name in Settings.model_fields:
        env = f"DESKBOT_{name.upper()}"
        assert f"`{env}`" in readme, f"{env} missing from README (scripts/settings_table.py)"
        assert f"\n{env}=" in example, f"{env} missing from .env.example"


def test_every_command_is_documented() -> None:
    readme = (REPO / "README.md").read_text()
    for spec in TABLE:
        assert f"`{spec.usage}`" in readme, f"{spec.usage} missing from README's command table"
