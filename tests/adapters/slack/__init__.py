"""Slack adapter scenario tests (real bolt app + FakeSlack + real deskbot app)."""
