"""bot services package."""
