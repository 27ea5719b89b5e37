"""Discord markdown <-> deskbot markdown: mentions resolved inbound, neutralised outbound."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.formatting._markdown import (
    Resolver,
    escape_markdown,
    fence_spans,
    no_name,
    segments,
)

ZWSP = "\u200b"

# --- Discord -> deskbot markdown ----------------------------------------------------------

# Discord fences may close mid-line ("```py\nx```") or sit on one line ("```x```"); a word
# right after the opening backticks followed by a newline is the language.
_CODE = re.compile(r"```(?:([\w+#.-]+)\n)?(.*?)```|(?<!`)(`+)(?!`)(.+?)(?<!`)\3(?!`)", re.S)
_TOKEN = re.compile(
    r"<@!?(?P<user>\d+)>|<@&(?P<role>\d+)>|<#(?P<channel>\d+)>"
    r"|<a?:(?P<emoji>\w+):\d+>|<t:(?P<ts>-?\d+)(?::[tTdDfFR])?>|</(?P<cmd>[\w -]+):\d+>"
    r"|<(?P<url>https?://[^\s<>]+)>"
)
_HEADING = re.compile(r"^(?:#{1,3} +(.+)|-# +(.+))$", re.M)
_STAR_BULLET = re.compile(r"^( *)\* ", re.M)
_BLOCK_QUOTE = re.compile(r"^ {0,3}>>> ?(.*)$")


def _prose(
    text: str, at_line_start: bool, user: Resolver, role: Resolver, channel: Resolver
) -> str:
    def token(m: re.Match[str]) -> str:
        if ident := m.group("user"):
            return "@" + escape_markdown(user(ident) or ident)
        if ident := m.group("role"):
            return "@" + escape_markdown(role(ident) or ident)
        if ident := m.group("channel"):
            return "#" + escape_markdown(channel(ident) or ident)
        if name := m.group("emoji"):
            return f":{name}:"
        if ts := m.group("ts"):
            try:
                return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M UTC")
            except (OverflowError, OSError, ValueError):
                return m.group(0)
        if cmd := m.group("cmd"):
            return "/" + cmd
        return m.group("url")

    def line_start_only(fn: re.Match[str]) -> bool:
        return fn.start() > 0 or at_line_start

    def heading(m: re.Match[str]) -> str:
        if not line_start_only(m):
            return m.group(0)
        return f"**{m.group(1)}**" if m.group(1) is not None else m.group(2)

    def bullet(m: re.Match[str]) -> str:
        return m.group(1) + "- " if line_start_only(m) else m.group(0)

    text = _HEADING.sub(heading, _STAR_BULLET.sub(bullet, text))
    return _TOKEN.sub(token, text)


def _quote_rest(text: str) -> str:
    """Turn Discord's ">>> " (quote everything after) into "> " on each following line."""
    spans = fence_spans(text)
    lines, out, pos = text.split("\n"), [], 0
    quoting = False
    for line in lines:
        in_fence = any(s.start < pos < s.end for s in spans)
        if quoting:
            out.append(f"> {line}" if line else ">")
        elif not in_fence and (m := _BLOCK_QUOTE.match(line)):
            quoting = True
            out.append(f"> {m.group(1)}" if m.group(1) else ">")
        else:
            out.append(line)
        pos += len(line) + 1
    return "\n".join(out)


def from_discord(
    text: str,
    resolve_user: Resolver = no_name,
    resolve_role: Resolver = no_name,
    resolve_channel: Resolver = no_name,
) -> str:
    """Discord message content -> deskbot markdown.

    Mentions become "@Name" / "@Role" / "#channel" through the resolvers (None falls back to
    the id); headings become bold lines, "* " bullets "- ", ">>> " a quote of each line,
    custom emoji ":name:", timestamps a UTC date. Code is left untouched.
    """
    out: list[str] = []
    pos = 0

    def prose(stop: int) -> str:
        return _prose(
            text[pos:stop],
            pos == 0 or text[pos - 1] == "\n",
            resolve_user,
            resolve_role,
            resolve_channel,
        )

    for m in _CODE.finditer(text):
        out.append(prose(m.start()))
        if m.group(3) is not None:
            out.append(m.group(0))
        else:
            body = m.group(2).removeprefix("\n").removesuffix("\n")
            head = "\n" if m.start() > 0 and text[m.start() - 1] != "\n" else ""
            tail = "\n" if m.end() < len(text) and text[m.end()] != "\n" else ""
            out.append(f"{head}```{m.group(1) or ''}\n{body}\n```{tail}")
        pos = m.end()
    out.append(prose(len(text)))
    return _quote_rest("".join(out))


# --- deskbot markdown -> Discord ----------------------------------------------------------

# No word boundary: Discord finds these anywhere, so "x@everyone" is neutralised too.
_MASS = re.compile(r"@(?=everyone|here)")
_RAW_MENTION = re.compile(r"<(@[!&]?|#)(?=\d)")
# Canonical text has no headings; a line that would become one in Discord is escaped.
_DISCORD_HEADING = re.compile(r"^( {0,3})(#{1,3} |-# )", re.M)


def to_discord(text: str) -> str:
    """Deskbot markdown -> Discord markdown, unchanged except that "@everyone", "@here" and raw
    "<@…>" / "<@&…>" / "<#…>" syntax get a zero-width space (send with
    ``allowed_mentions=AllowedMentions.none()`` as well) and heading-like lines are escaped.
    Code is left untouched."""
    out = []
    for piece, is_code, at_line_start in segments(text):
        out.append(piece if is_code else _neutralise(piece, at_line_start))
    return "".join(out)


def _neutralise(piece: str, at_line_start: bool) -> str:
    def heading(m: re.Match[str]) -> str:
        if m.start() == 0 and not at_line_start:
            return m.group(0)
        return f"{m[1]}\\{m[2]}"

    piece = _MASS.sub("@" + ZWSP, piece)
    piece = _RAW_MENTION.sub(lambda m: f"<{m.group(1)}{ZWSP}", piece)
    return _DISCORD_HEADING.sub(heading, piece)
