"""Show the mail-corpus figures recorded by test_corpus.py in pytest's terminal summary."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    figures = [
        value
        for report in terminalreporter.stats.get("passed", [])
        + terminalreporter.stats.get("failed", [])
        if report.when == "call"
        for name, value in report.user_properties
        if name == "corpus_figure"
    ]
    if figures:
        terminalreporter.section("mail corpus")
        for line in figures:
            terminalreporter.write_line(f"corpus {line}")
