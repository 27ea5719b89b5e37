"""Test fakes: loopback imitations of Slack, Discord and mail servers."""
