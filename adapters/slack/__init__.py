"""adapters slack package."""
