"""Parser for deskbot markdown: chat-style line blocks plus markdown-it inline parsing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

from markdown_it import MarkdownIt

# Blocks are parsed line by line, the way Slack and Discord read a message, not by CommonMark
# block rules: there a "> quote" swallows the next line (lazy continuation), four spaces make a
# code block and "# x" a heading, none of which a chat user means. Inline markup (emphasis,
# code spans, links, escapes) follows CommonMark, parsed by markdown-it.
FENCE_OPEN = re.compile(r"^ {0,3}(`{3,})([^`]*)$")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,})[ \t]*$")
_QUOTE = re.compile(r"^ {0,3}> ?(.*)$")
_BULLET = re.compile(r"^( *)[-*] +(.*)$")
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_MD_SPECIAL = re.compile(r"([\\`*_~\[\]<>])")

Resolver = Callable[[str], "str | None"]


def no_name(_id: str) -> str | None:
    """Default resolver: knows no names, so callers fall back to the raw id."""
    return None


def escape_markdown(text: str) -> str:
    """Backslash-escape the characters deskbot markdown treats as markup, for literal text."""
    return _MD_SPECIAL.sub(r"\\\1", text)


@dataclass
class Paragraph:
    lines: list[str]
    gap: int = 0  # blank lines before this block, kept so text renderers keep the spacing


@dataclass
class Fence:
    info: str
    lines: list[str]
    gap: int = 0


@dataclass
class Quote:
    blocks: list[Block]
    gap: int = 0


@dataclass
class BulletList:
    items: list[tuple[int, str]]  # (nesting level, inline source)
    gap: int = 0


Block = Paragraph | Fence | Quote | BulletList


def _closes(line: str, marker: str) -> bool:
    m = _FENCE_CLOSE.match(line)
    return m is not None and len(m.group(1)) >= len(marker)


def _starts_block(line: str) -> bool:
    return bool(FENCE_OPEN.match(line) or _QUOTE.match(line) or _BULLET.match(line))


def parse_blocks(text: str) -> list[Block]:
    """Split deskbot markdown into fences, quotes, bullet lists and paragraphs."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[Block] = []
    gap = i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            gap, i = gap + 1, i + 1
            continue
        if m := FENCE_OPEN.match(line):
            marker, body, i = m.group(1), [], i + 1
            while i < len(lines) and not _closes(lines[i], marker):
                body.append(lines[i])
                i += 1
            i += 1  # the closing line (or past the end when unclosed)
            blocks.append(Fence(m.group(2).strip(), body, gap))
        elif _QUOTE.match(line):
            inner = []
            while i < len(lines) and (q := _QUOTE.match(lines[i])):
                inner.append(q.group(1))
                i += 1
            blocks.append(Quote(parse_blocks("\n".join(inner)), gap))
        elif _BULLET.match(line):
            items: list[tuple[int, str]] = []
            indents: list[int] = []  # a stack, so 2- and 4-space nesting both work
            while i < len(lines) and (b := _BULLET.match(lines[i])):
                indent = len(b.group(1))
                while indents and indent < indents[-1]:
                    indents.pop()
                if not indents or indent > indents[-1]:
                    indents.append(indent)
                items.append((len(indents) - 1, b.group(2)))
                i += 1
            blocks.append(BulletList(items, gap))
        else:
            para: list[str] = []
            while i < len(lines) and lines[i].strip() and (not para or not _starts_block(lines[i])):
                para.append(lines[i])
                i += 1
            blocks.append(Paragraph(para, gap))
        gap = 0
    return blocks


@dataclass
class Node:
    """Inline node: text, code, br, strong, em, s or link."""

    kind: str
    text: str = ""
    href: str = ""
    children: list[Node] = field(default_factory=list)


@cache
def _md() -> MarkdownIt:
    md = MarkdownIt("zero", {"breaks": True, "linkify": True})
    rules = ["emphasis", "strikethrough", "backticks", "link", "autolink", "escape", "newline"]
    md.enable([*rules, "linkify"])
    # Only URLs with a scheme (and e-mail addresses) become links; "example.com" stays text.
    if md.linkify is not None:
        md.linkify.set({"fuzzy_link": False})
    return md


_KINDS = {"strong_open": "strong", "em_open": "em", "s_open": "s", "link_open": "link"}


def parse_inline(src: str) -> list[Node]:
    """Parse one paragraph (or list item) of deskbot markdown into inline nodes."""
    root = Node("root")
    stack = [root]
    for tok in _md().parseInline(src)[0].children or []:
        if tok.type in ("softbreak", "hardbreak"):
            stack[-1].children.append(Node("br"))
        elif tok.type == "code_inline":
            stack[-1].children.append(Node("code", tok.content))
        elif tok.type in _KINDS:
            node = Node(_KINDS[tok.type], href=str(tok.attrGet("href") or ""))
            stack[-1].children.append(node)
            stack.append(node)
        elif tok.type.endswith("_close"):
            if len(stack) > 1:
                stack.pop()
        elif tok.content:  # text, text_special and anything unexpected: keep as text
            stack[-1].children.append(Node("text", tok.content))
    return root.children


def code_span(code: str) -> str:
    """Write code as a markdown code span, with more backticks than any run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{ticks}{pad}{code}{pad}{ticks}"


def plain_label(nodes: list[Node]) -> str:
    """The visible text of inline nodes without any markup (for link labels)."""
    out = []
    for n in nodes:
        if n.kind in ("text", "code"):
            out.append(n.text)
        elif n.kind == "br":
            out.append(" ")
        else:
            out.append(plain_label(n.children))
    return "".join(out)


def _strip_scheme(url: str) -> str:
    return re.sub(r"^(?:https?://|mailto:)", "", url, flags=re.I).rstrip("/")


def is_bare_link(label: str, href: str) -> bool:
    """True when a link's label just repeats its target (so "label (url)" would stutter)."""
    # markdown-it percent-encodes and punycodes hrefs; compare them as a reader sees them.
    shown = _md().normalizeLinkText(href)
    return not label or _strip_scheme(label) in (_strip_scheme(href), _strip_scheme(shown))


def is_web_or_mail(href: str) -> bool:
    return href.lower().startswith(("http://", "https://", "mailto:"))


@dataclass(frozen=True)
class TextStyle:
    """How a line-oriented target (plain text, Slack) writes each kind of block."""

    inline: Callable[[list[Node]], str]
    code_block: Callable[[Fence], str]
    bullet: str
    indent: str


def render_text(blocks: list[Block], style: TextStyle) -> str:
    """Render blocks for a line-oriented target, keeping the blank lines between blocks."""
    parts = []
    for i, block in enumerate(blocks):
        if i:
            parts.append("\n" * (1 + block.gap))
        if isinstance(block, Paragraph):
            parts.append(style.inline(parse_inline("\n".join(block.lines))))
        elif isinstance(block, Fence):
            parts.append(style.code_block(block))
        elif isinstance(block, Quote):
            inner = render_text(block.blocks, style).split("\n")
            parts.append("\n".join(f"> {line}" if line else ">" for line in inner))
        else:
            parts.append(
                "\n".join(
                    style.indent * level + style.bullet + style.inline(parse_inline(src))
                    for level, src in block.items
                )
            )
    return "".join(parts)


@dataclass(frozen=True)
class FenceSpan:
    """Where a fenced code block sits in a text (offsets into that text)."""

    start: int  # first character of the opening line
    content_start: int  # first character after the opening line's newline
    content_end: int  # the newline before the closing line (len(text) when unclosed)
    end: int  # just past the closing line (len(text) when unclosed)
    opener: str  # the opening line, e.g. "```py"
    marker: str  # the backticks, e.g. "```"


def fence_spans(text: str) -> list[FenceSpan]:
    """Find the fenced code blocks of a text, using the same line rules as parse_blocks."""
    spans = []
    pos, n = 0, len(text)
    opened: tuple[int, int, str, str] | None = None
    while pos <= n:
        nl = text.find("\n", pos)
        eol = n if nl < 0 else nl
        line = text[pos:eol]
        if opened is None:
            if m := FENCE_OPEN.match(line):
                opened = (pos, min(eol + 1, n), line.rstrip(), m.group(1))
        elif _closes(line, opened[3]):
            start, cstart, opener, marker = opened
            spans.append(FenceSpan(start, cstart, max(cstart, pos - 1), eol, opener, marker))
            opened = None
        if nl < 0:
            break
        pos = nl + 1
    if opened is not None:
        start, cstart, opener, marker = opened
        spans.append(FenceSpan(start, cstart, n, n, opener, marker))
    return spans


def segments(text: str) -> Iterator[tuple[str, bool, bool]]:
    """Yield (piece, is_code, at_line_start) covering the text: code is fences and code spans."""
    pos = 0
    for span in [*fence_spans(text), None]:
        stop = len(text) if span is None else span.start
        prose = text[pos:stop]
        p = 0
        for m in _INLINE_CODE.finditer(prose):
            yield prose[p : m.start()], False, _line_start(text, pos + p)
            yield m.group(0), True, _line_start(text, pos + m.start())
            p = m.end()
        yield prose[p:], False, _line_start(text, pos + p)
        if span is not None:
            yield text[span.start : span.end], True, True
            pos = span.end


def _line_start(text: str, i: int) -> bool:
    return i == 0 or text[i - 1] == "\n"
