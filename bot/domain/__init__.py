"""bot domain package."""
