"""The email adapter: mailboxes become tickets, agents answer from chat, no mail loops."""

from adapters.email.adapter import EmailAdapter
from adapters.email.config import EmailConfig

__all__ = ["EmailAdapter", "EmailConfig"]
