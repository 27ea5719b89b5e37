"""App commands generated from the core's command table, synced only when they changed.

Each family of the table (`bot.commands.families()`) is one Discord command: `/claim`, or a
command with sub-commands (`/canned use`). A command acting on a ticket gets an optional
`ticket` option with autocomplete; `person` arguments are user options; `choice` arguments
have their choices. The line the gateway parses is rebuilt from the options in table order.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import commands as table
from bot.formatting import from_discord, truncate

log = logging.getLogger(__name__)

STRING, USER, SUB_COMMAND, ATTACHMENT = 3, 6, 1, 11
MAX_COMMANDS = 100
MAX_OPTIONS = 25
TICKET_OPTION = "ticket"
FILE_OPTION = "file"  # commands that take files (`extra["files"]`, e.g. /reply) get one
TEXT_MAX = 4000  # a free-text option (Discord allows up to 6,000)
AUTOCOMPLETE_NAMES = {"canned use": "name", "canned remove": "name"}  # canned answers


def _description(text: str) -> str:
    return truncate(" ".join(text.split()), 100) or "-"


def _arg_option(spec: table.CommandSpec, arg: table.Arg) -> dict[str, Any] | None:
    if arg.kind == "choice" and len(arg.choices) == 1 and not arg.optional:
        return None  # a fixed word (`merge A into B`): filled in, not asked
    option: dict[str, Any] = {"name": arg.name, "type": STRING, "required": not arg.optional}
    if arg.kind == "person":
        option.update(type=USER, description=f"{arg.name}: a member")
    elif arg.kind == "choice":
        option["description"] = _description(f"{arg.name}: " + ", ".join(arg.choices))
        option["choices"] = [{"name": c, "value": c} for c in arg.choices[:25]]
    elif arg.kind == "ref":
        option.update(description=f"{arg.name}: a ticket, e.g. T-12", autocomplete=True)
    elif arg.kind == "text":
        option.update(description=f"{arg.name} (text)", max_length=TEXT_MAX)
    else:
        option["description"] = arg.name
        if AUTOCOMPLETE_NAMES.get(spec.name) == arg.name:
            option["autocomplete"] = True
    return option


def options_for(spec: table.CommandSpec) -> list[dict[str, Any]]:
    """Options for one command; Discord wants required ones before optional ones."""
    opts = [o for a in spec.args if (o := _arg_option(spec, a)) is not None]
    if spec.ticket:
        opts.append(
            {
                "name": TICKET_OPTION,
                "type": STRING,
                "required": False,
                "autocomplete": True,
                "description": "The ticket, e.g. T-12 (default: this thread's ticket)",
            }
        )
    if spec.extra.get("files"):
        opts.append(
            {
                "name": FILE_OPTION,
                "type": ATTACHMENT,
                "required": False,
                "description": "A file to send with it",
            }
        )
    return sorted(opts, key=lambda o: not o["required"])[:MAX_OPTIONS]


def payloads() -> list[dict[str, Any]]:
    """The application commands for the whole table (the body of a bulk overwrite)."""
    out: list[dict[str, Any]] = []
    for family, specs in table.families().items():
        if len(specs) == 1 and specs[0].name == family:
            spec = specs[0]
            out.append(
                {
                    "type": 1,
                    "name": family,
                    "description": _description(spec.help),
                    "options": options_for(spec),
                }
            )
            continue
        subs: list[dict[str, Any]] = []
        for spec in specs[:MAX_OPTIONS]:
            words = spec.name.split()
            sub = words[1] if len(words) > 1 else family  # a bare `/x` beside `/x y`
            subs.append(
                {
                    "type": SUB_COMMAND,
                    "name": sub,
                    "description": _description(spec.help),
                    "options": options_for(spec),
                }
            )
        out.append(
            {
                "type": 1,
                "name": family,
                "description": _description(f"{family}: " + ", ".join(s["name"] for s in subs)),
                "options": subs,
            }
        )
    if len(out) > MAX_COMMANDS:
        log.warning("%d command families; Discord takes %d", len(out), MAX_COMMANDS)
    return out[:MAX_COMMANDS]


def spec_for(path: str) -> table.CommandSpec | None:
    """The table entry for an invoked path (`canned use`, `claim`, `x x` for a bare `/x`)."""
    words = path.split()
    if len(words) == 2 and words[0] == words[1]:
        path = words[0]
    return table.BY_NAME.get(path)


def command_line(
    spec: table.CommandSpec, values: dict[str, Any], ticket_ref: str | None = None
) -> str:
    """The gateway's command line for the options given, in the table's argument order."""
    parts = [spec.name]
    if spec.ticket and ticket_ref:
        parts.append(ticket_ref)
    for arg in spec.args:
        value = values.get(arg.name)
        if arg.kind == "choice" and len(arg.choices) == 1 and not arg.optional:
            value = arg.choices[0]
        if value is None or str(value).strip() == "":
            continue
        if arg.kind == "person":
            parts.append(f"<@{value}>")
        elif arg.kind == "text":
            parts.append(from_discord(str(value)))
        else:
            parts.append(str(value).strip())
    return " ".join(parts)


def _normal(node: Any) -> Any:
    """A command as compared for sync: only what we send, with Discord's defaults filled in."""
    if isinstance(node, list):
        return [_normal(n) for n in node]
    if not isinstance(node, dict):
        return node
    keys = ("type", "name", "description", "required", "autocomplete", "max_length")
    out: dict[str, Any] = {k: node.get(k) for k in keys}
    out["type"] = out["type"] or 1
    out["required"] = bool(out["required"])
    out["autocomplete"] = bool(out["autocomplete"])
    out["choices"] = [(c.get("name"), c.get("value")) for c in node.get("choices") or []]
    out["options"] = _normal(list(node.get("options") or []))
    return out


def same_commands(registered: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    """True when Discord already has exactly these commands (chat-input ones compared)."""

    def keyed(cmds: list[dict[str, Any]]) -> dict[str, Any]:
        return {c["name"]: _normal(c) for c in cmds if (c.get("type") or 1) == 1}

    return keyed(registered) == keyed(wanted)


async def sync(http: Any, app_id: int, guild_ids: list[int] | None) -> int:
    """Overwrite the commands where they differ from the table; returns how many scopes were
    written (0 when nothing changed — Discord allows 200 command creates per day)."""
    wanted = payloads()
    written = 0
    scopes: list[int | None] = list(guild_ids) if guild_ids is not None else [None]
    for scope in scopes:
        if scope is None:
            current = await http.get_global_commands(app_id)
        else:
            current = await http.get_guild_commands(app_id, scope)
        if same_commands(list(current), wanted):
            continue
        if scope is None:
            await http.bulk_upsert_global_commands(app_id, wanted)
        else:
            await http.bulk_upsert_guild_commands(app_id, scope, wanted)
        written += 1
        log.info("Discord commands synced (%s)", "global" if scope is None else f"guild {scope}")
    return written
