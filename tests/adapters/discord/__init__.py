"""Scenario tests of the Discord adapter against FakeDiscord."""
