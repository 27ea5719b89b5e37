"""adapters email package."""
