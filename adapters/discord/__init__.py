"""adapters discord package."""
