"""Message text conversion between deskbot markdown and Slack, Discord, plain text and email."""

from bot.formatting._markdown import Resolver, escape_markdown
from bot.formatting.discord_md import from_discord, to_discord
from bot.formatting.render import to_email_html, to_plain
from bot.formatting.slack_mrkdwn import escape_slack, from_slack, to_slack
from bot.formatting.split import split_text, truncate

__all__ = [
    "Resolver",
    "escape_markdown",
    "escape_slack",
    "from_discord",
    "from_slack",
    "split_text",
    "to_discord",
    "to_email_html",
    "to_plain",
    "to_slack",
    "truncate",
]
