"""Split or truncate long text to a platform's size limit without breaking code fences."""

from __future__ import annotations

import re

from bot.formatting._markdown import FenceSpan, fence_spans

_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_LINE = re.compile(r"\n")
_SENTENCE = re.compile(r"[.!?…](?=\s)")
_WORD = re.compile(r"[ \t]")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
# Never break a word inside a link, a Slack <…> token or a code span.
_PROTECTED = re.compile(r"\[[^\]\n]*\]\([^)\n]*\)|<[^<>\n]+>|(`+)[^`\n]+?\1")

_OUT, _IN, _BAD = "out", "in", "bad"


def _where(spans: list[FenceSpan], p: int) -> tuple[str, FenceSpan | None]:
    """Is a cut before index p outside a fence, inside its code, or in a fence line?"""
    for s in spans:
        # Inside an opening or closing line, or a cut that would leave an empty code block
        # (right after the opener, or right before the closer: cut after the closer instead).
        if s.start < p <= s.content_start or s.content_end <= p < s.end:
            return _BAD, s
        if s.content_start < p < s.content_end:
            return _IN, s
    return _OUT, None


def _try(
    text: str, limit: int, spans: list[FenceSpan], p: int, kind: str
) -> tuple[str, str] | None:
    """The (chunk, rest) of cutting at p, or None when that cut is not allowed."""
    where, span = _where(spans, p)
    if where == _BAD or p <= 0:
        return None
    if span is not None:
        if kind in ("sentence", "word"):
            return None  # inside code only whole lines are split
        skip = 1 if kind != "hard" else 0  # the newline the closing fence replaces
        chunk = f"{text[:p]}\n{span.marker}"
        rest = f"{span.opener}\n{text[p + skip :]}"
    else:
        chunk = text[:p].rstrip()
        rest = text[p:]
        if kind in ("paragraph", "line"):
            rest = _LEADING_BLANK_LINES.sub("", rest)  # keeps the next line's indentation
        elif kind != "hard":
            rest = rest.lstrip()
    if not chunk.strip() or len(chunk) > limit or len(rest) >= len(text):
        return None
    return chunk, rest


def _cut(text: str, limit: int, min_fill: float) -> tuple[str, str]:
    """Cut one chunk of at most `limit` characters off the front of `text`."""
    spans = fence_spans(text)
    window = text[: limit + 1]
    protected = [m.span() for m in _PROTECTED.finditer(text, 0, limit + 200)]
    kinds = {
        "paragraph": [m.start() for m in _PARAGRAPH.finditer(window)],
        "line": [m.start() for m in _LINE.finditer(window)],
        "sentence": [m.end() for m in _SENTENCE.finditer(window)],
        "word": [m.start() for m in _WORD.finditer(window)],
    }
    for kind in ("sentence", "word"):
        kinds[kind] = [p for p in kinds[kind] if not any(a < p < b for a, b in protected)]
    # Prefer the strongest boundary that still fills the chunk reasonably; else the latest one.
    floor = int(limit * min_fill)
    for kind, positions in kinds.items():
        for p in reversed(positions):
            if p < floor:
                break
            if cut := _try(text, limit, spans, p, kind):
                return cut
    ranked = sorted(
        ((p, rank, kind) for rank, (kind, ps) in enumerate(kinds.items()) for p in ps),
        key=lambda c: (-c[0], c[1]),
    )
    for p, _rank, kind in ranked:
        if cut := _try(text, limit, spans, p, kind):
            return cut
    for p in range(min(limit, len(text)), 0, -1):
        if cut := _try(text, limit, spans, p, "hard"):
            return cut
    # A fence opening line nearly as long as the limit: nothing valid fits, so cut plainly.
    return text[:limit], text[limit:]


def split_text(text: str, limit: int) -> list[str]:
    """Split text into chunks of at most `limit` characters each.

    Cuts prefer a blank line, then a line break, then a sentence end, then a space, and cut
    inside a word only when nothing else fits. A code fence cut in two is closed at the end of
    one chunk and reopened (with its language) at the start of the next, so every chunk renders
    on its own. Only whitespace at the seams and those fence lines are added or dropped.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        chunk, rest = _cut(rest, limit, 0.5)
        chunks.append(chunk)
    if rest.strip() or not chunks:
        chunks.append(rest)
    return chunks


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Shorten text to at most `limit` characters, ending with `marker` when anything was cut.

    Cuts at a boundary near the end (as split_text does) and closes an open code fence.
    """
    if len(text) <= limit:
        return text
    budget = limit - len(marker)
    if budget < 2:
        return (text[: max(budget, 0)] + marker)[:limit]
    chunk, _ = _cut(text, budget, 0.8)
    if chunk.rsplit("\n", 1)[-1].lstrip().startswith("```"):
        # Ends with a fence line: the marker goes on a line of its own, after it.
        chunk, _ = _cut(text, budget - 1, 0.8)
        return chunk + "\n" + marker
    return chunk + marker
