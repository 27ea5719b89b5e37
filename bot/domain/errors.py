"""Domain errors: each carries a message fit to show the person who caused it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused a change; the message says why and what is allowed."""


class IllegalTransition(DomainError):
    pass


class AlreadyClaimed(DomainError):
    pass


class NotFound(DomainError):
    pass


class Forbidden(DomainError):
    pass


class InvalidTemplate(DomainError):
    pass


class ConcurrencyConflict(Exception):
    """Another transaction changed the ticket first; the bus retries the command."""
