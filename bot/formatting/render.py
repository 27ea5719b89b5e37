"""Render deskbot markdown as plain text (email text/plain, console) or minimal safe HTML."""

from __future__ import annotations

from html import escape

from bot.formatting._markdown import (
    Block,
    Fence,
    Node,
    Paragraph,
    Quote,
    TextStyle,
    code_span,
    is_bare_link,
    is_web_or_mail,
    parse_blocks,
    parse_inline,
    plain_label,
    render_text,
)


def _plain_link(label: str, href: str) -> str:
    if not is_bare_link(label, href):
        return f"{label} ({href})"
    # Keep what the writer typed ("a@b.c", "https://…"); add the scheme to a bare host name.
    return label if href.lower().startswith("mailto:") or "://" in label else href


def _plain_inline(nodes: list[Node]) -> str:
    out = []
    for n in nodes:
        if n.kind == "text":
            out.append(n.text)
        elif n.kind == "code":
            out.append(code_span(n.text))
        elif n.kind == "br":
            out.append("\n")
        elif n.kind == "s":
            # Struck-out text is kept visibly struck: dropping the marks would invert its meaning.
            out.append(f"~~{_plain_inline(n.children)}~~")
        elif n.kind == "link":
            out.append(_plain_link(plain_label(n.children), n.href))
        else:  # strong, em: plain text has no emphasis worth faking
            out.append(_plain_inline(n.children))
    return "".join(out)


def _plain_fence(block: Fence) -> str:
    return "\n".join([f"```{block.info}", *block.lines, "```"])


_PLAIN = TextStyle(inline=_plain_inline, code_block=_plain_fence, bullet="- ", indent="  ")


def to_plain(text: str) -> str:
    """Deskbot markdown -> readable plain text: markup dropped, links as "label (url)"."""
    return render_text(parse_blocks(text), _PLAIN)


_HTML_TAGS = {"strong": "strong", "em": "em", "s": "s"}


def _html_inline(nodes: list[Node]) -> str:
    out = []
    for n in nodes:
        if n.kind == "text":
            out.append(escape(n.text))
        elif n.kind == "code":
            out.append(f"<code>{escape(n.text)}</code>")
        elif n.kind == "br":
            out.append("<br>\n")
        elif n.kind == "link":
            inner = _html_inline(n.children)
            if is_web_or_mail(n.href):
                out.append(f'<a href="{escape(n.href, quote=True)}">{inner}</a>')
            elif is_bare_link(plain_label(n.children), n.href):
                out.append(inner)
            else:  # other schemes are shown, never made clickable
                out.append(f"{inner} ({escape(n.href)})")
        else:
            tag = _HTML_TAGS[n.kind]
            out.append(f"<{tag}>{_html_inline(n.children)}</{tag}>")
    return "".join(out)


def _html_list(items: list[tuple[int, str]]) -> str:
    out = ["<ul>"]
    depth = 0
    for i, (level, src) in enumerate(items):
        level = min(level, depth + 1)
        if i and level > depth:
            out.append("<ul>")  # nested list inside the still-open <li>
        elif i:
            out.append("</li>")
            while depth > level:
                out.append("</ul></li>")
                depth -= 1
        depth = level
        out.append(f"<li>{_html_inline(parse_inline(src))}")
    out.append("</li>" + "</ul></li>" * depth + "</ul>")
    return "".join(out)


def _html_blocks(blocks: list[Block]) -> str:
    out = []
    for block in blocks:
        if isinstance(block, Paragraph):
            inline = _html_inline(parse_inline("\n".join(block.lines)))
            out.append(f"<p>{inline}</p>")
        elif isinstance(block, Fence):
            code = escape("\n".join(block.lines))
            out.append(f"<pre><code>{code}</code></pre>")
        elif isinstance(block, Quote):
            out.append(f"<blockquote>\n{_html_blocks(block.blocks)}\n</blockquote>")
        else:
            out.append(_html_list(block.items))
    return "\n".join(out)


def to_email_html(text: str) -> str:
    """Deskbot markdown -> an HTML fragment using only p, br, strong, em, s, code, pre,
    blockquote, ul/li and a (http, https and mailto only); every piece of user text is escaped."""
    return _html_blocks(parse_blocks(text))
