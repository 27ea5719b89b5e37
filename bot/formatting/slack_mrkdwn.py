"""Slack mrkdwn <-> deskbot markdown, with every piece of user text escaped on the way out."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.formatting._markdown import (
    Fence,
    Node,
    Resolver,
    TextStyle,
    code_span,
    escape_markdown,
    is_bare_link,
    is_web_or_mail,
    no_name,
    parse_blocks,
    plain_label,
    render_text,
)

# --- Slack -> deskbot markdown ------------------------------------------------------------

# Slack code: ```fences``` (may sit mid-line and span lines) and `spans` (one line).
_FENCE = re.compile(r"```(.*?)```", re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
# Slack sends a literal <, > and & escaped, so any raw <...> is markup.
_ANGLE = re.compile(r"<([^<>\n]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
# *bold* and ~strike~ open after a non-word character and close before one, like Slack's own
# parser ("2*3*4" stays literal). Bare backslashes before punctuation and stray asterisks are
# literal in Slack but markup in deskbot markdown, so they are escaped.
_INLINE = re.compile(
    r"(?<![\w*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w*])"
    r"|(?<![\w~])~(?=[^\s~])([^~\n]*?[^\s~])~(?![\w~])"
    r"|(\\(?=[!-/:-@\[-`{-~]))"
    r"|(\*)"
)
_SLACK_BULLET = re.compile(r"^( *)[•◦▪] ", re.M)
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


def _unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def _md_destination(url: str) -> str:
    if re.search(r"[\s()<>]", url):
        return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return url


def _angle(inner: str, user: Resolver, channel: Resolver, markdown: bool) -> str:
    """One <...> token as canonical text (markdown) or as plain words (inside code)."""
    target, _, label = inner.partition("|")
    label = _unescape(label)
    esc: Callable[[str], str] = escape_markdown if markdown else str
    if target.startswith("@"):
        return "@" + esc(user(target[1:]) or label or target[1:])
    if target.startswith("#"):
        return "#" + esc(label or channel(target[1:]) or target[1:])
    if target.startswith("!"):
        keyword, _, arg = target[1:].partition("^")
        if keyword in ("here", "channel", "everyone"):
            return "@" + keyword
        if keyword == "subteam":
            return esc(label or "@" + arg)
        return esc(label or ("" if keyword == "date" else keyword))
    url = _unescape(target)
    address = url[7:] if url.lower().startswith("mailto:") else None
    if not label or is_bare_link(label, url):
        return address if address is not None else url
    if not markdown:
        return label
    return f"[{escape_markdown(label)}]({_md_destination(url)})"


def _prose(text: str, at_line_start: bool, user: Resolver, channel: Resolver) -> str:
    tokens: list[str] = []

    # Code spans and <…> tokens are set aside first, so *bold* may contain them.
    def keep(canonical: str) -> str:
        tokens.append(canonical)
        return f"\x00{len(tokens) - 1}\x00"

    def inline(s: str) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) is not None:
                return f"**{inline(m.group(1))}**"
            if m.group(2) is not None:
                return f"~~{inline(m.group(2))}~~"
            return "\\" + m.group(0)

        return _INLINE.sub(sub, s)

    def bullet(m: re.Match[str]) -> str:
        if m.start() == 0 and not at_line_start:
            return m.group(0)
        return m.group(1) + "- "

    out = _SPAN.sub(lambda m: keep(code_span(_code_text(m.group(1), user, channel))), text)
    out = _ANGLE.sub(lambda m: keep(_angle(m.group(1), user, channel, markdown=True)), out)
    out = _unescape(inline(_SLACK_BULLET.sub(bullet, out)))
    return _PLACEHOLDER.sub(lambda m: tokens[int(m.group(1))], out)


def _code_text(text: str, user: Resolver, channel: Resolver) -> str:
    # Slack still links URLs and mentions inside code; show their words, not their syntax.
    return _unescape(_ANGLE.sub(lambda m: _angle(m.group(1), user, channel, False), text))


def from_slack(
    text: str, resolve_user: Resolver = no_name, resolve_channel: Resolver = no_name
) -> str:
    """Slack mrkdwn (a message's ``text``) -> deskbot markdown.

    ``resolve_user("U123")`` and ``resolve_channel("C1")`` return display names, or None to
    fall back to the id. Code blocks come out as fences on their own lines.
    """
    out: list[str] = []
    pos = 0
    text = text.replace("\x00", "")  # the placeholder character; Slack never sends it
    for m in _FENCE.finditer(text):
        before = text[pos : m.start()]
        out.append(_prose(before, pos == 0 or text[pos - 1] == "\n", resolve_user, resolve_channel))
        body = m.group(1).removeprefix("\n").removesuffix("\n")
        head = "\n" if m.start() > 0 and text[m.start() - 1] != "\n" else ""
        tail = "\n" if m.end() < len(text) and text[m.end()] != "\n" else ""
        code = _code_text(body, resolve_user, resolve_channel)
        out.append(f"{head}```\n{code}\n```{tail}")
        pos = m.end()
    out.append(_prose(text[pos:], pos == 0 or text[pos - 1] == "\n", resolve_user, resolve_channel))
    return "".join(out)


# --- deskbot markdown -> Slack ------------------------------------------------------------


def escape_slack(text: str) -> str:
    """Escape &, < and > so user text can never become a Slack mention, command or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_url(href: str) -> str:
    # "|" ends the URL part of <url|label>; percent-encoding keeps the link intact.
    return escape_slack(href.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E"))


def _slack_link(label: str, href: str) -> str:
    if not is_web_or_mail(href):
        return escape_slack(label if is_bare_link(label, href) else f"{label} ({href})")
    if is_bare_link(label, href) and not href.lower().startswith("mailto:"):
        return f"<{_slack_url(href)}>"
    # Slack has no escape for "|" inside a label; a look-alike keeps the label readable.
    return f"<{_slack_url(href)}|{escape_slack(label.replace('|', '∣'))}>"


_MARKS = {"strong": "*", "em": "_", "s": "~"}


def _slack_inline(nodes: list[Node]) -> str:
    out = []
    for n in nodes:
        if n.kind == "text":
            out.append(escape_slack(n.text))
        elif n.kind == "code":
            out.append(code_span(escape_slack(n.text)))
        elif n.kind == "br":
            out.append("\n")
        elif n.kind == "link":
            out.append(_slack_link(plain_label(n.children), n.href))
        else:
            mark = _MARKS[n.kind]
            out.append(f"{mark}{_slack_inline(n.children)}{mark}")
    return "".join(out)


def _slack_fence(block: Fence) -> str:
    return "```\n" + escape_slack("\n".join(block.lines)) + "\n```"


_SLACK = TextStyle(inline=_slack_inline, code_block=_slack_fence, bullet="• ", indent="    ")


def to_slack(text: str) -> str:
    """Deskbot markdown -> Slack mrkdwn. User text is escaped, so typed "<!channel>" or
    "<@U1>" shows as text; post it without ``link_names``/``parse=full`` so "@here" stays text."""
    return render_text(parse_blocks(text), _SLACK)
