"""The command table and argument parsing, with no database."""

from __future__ import annotations

from typing import Any

import pytest

from bot import commands as table
from bot.domain.model import Role
from bot.gateway import Gateway, UsageError
from bot.messages import CommandInvocation, Identity
from bot.services.context import Core, Policy
from bot.services.ports import FakeClock


def gateway() -> Gateway:
    return Gateway(bus=None, core=Core(Policy(), FakeClock()))  # type: ignore[arg-type]


def parse(line: str, role: Role = Role.AGENT) -> Any:
    spec, rest = table.lookup(line)
    assert spec is not None
    inv = CommandInvocation("console", Identity("console", "bob"), line)
    return gateway()._parse(inv, spec, role, rest)


def test_names_are_unique_and_usage_is_generated() -> None:
    names = [s.name for s in table.TABLE]
    assert len(names) == len(set(names))
    assert table.BY_NAME["assign"].usage == "/assign [T-n] <agent>"
    assert table.BY_NAME["priority"].usage == "/priority [T-n] <low|normal|high|urgent>"


def test_longest_name_wins() -> None:
    spec, rest = table.lookup("canned add hello Hi there")
    assert spec is not None and spec.name == "canned add" and rest == "hello Hi there"
    assert table.lookup("frobnicate")[0] is None


def test_leading_ref_and_rest_of_line() -> None:
    call = parse("reply T-7 thanks, fixed it")
    assert call.explicit_ticket == 7 and call.args["text"] == "thanks, fixed it"
    call = parse("merge T-2 into T-1")
    assert call.args == {"source": 2, "into": "into", "target": 1}


@pytest.mark.parametrize("line", ["priority extreme", "assign", "merge T-2 onto T-1", "claim x"])
def test_wrong_arguments_raise_usage(line: str) -> None:
    with pytest.raises(UsageError):
        parse(line)


def test_every_command_has_help_and_a_role() -> None:
    for spec in table.TABLE:
        assert spec.help and isinstance(spec.role, Role)
    customer = [s.name for s in table.TABLE if s.role == Role.CUSTOMER]
    core = {"help", "new", "mytickets", "status", "close"}
    automation = {"rate", "solved", "kb search", "kb show"}  # issue 7
    assert set(customer) == core | automation


def test_help_lists_only_what_the_role_may_run() -> None:
    g = gateway()
    assert "/claim" not in g.help_text(Role.CUSTOMER, None)
    assert "/agent add" in g.help_text(Role.ADMIN, None)
    assert g.help_text(Role.AGENT, "claim").startswith("/claim [T-n]")
