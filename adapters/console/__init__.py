"""The console adapter: the embedded default and the end-to-end test harness."""

from adapters.console.adapter import ConsoleAdapter
from adapters.console.script import ScriptError, parse_line

__all__ = ["ConsoleAdapter", "ScriptError", "parse_line"]
