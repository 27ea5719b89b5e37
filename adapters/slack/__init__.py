"""The Slack adapter: support channels become tickets; agents work them from a triage card."""

from adapters.slack.adapter import SlackAdapter, make_client
from adapters.slack.config import SlackConfig

__all__ = ["SlackAdapter", "SlackConfig", "make_client"]
