"""The Discord adapter: private-thread tickets, modmail DMs, app commands, staff cards."""

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.config import DiscordConfig, DiscordStartupError

__all__ = ["DiscordAdapter", "DiscordConfig", "DiscordStartupError"]
