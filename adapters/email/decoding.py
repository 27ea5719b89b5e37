"""Tolerant decoding of mail bytes and headers: charsets, RFC 2047/2231, HTML to text, ids."""

from __future__ import annotations

import codecs
import email.charset
import re
from email.header import decode_header
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses

import charset_normalizer
from bs4 import BeautifulSoup

# Labels seen in real mail that Python does not know, or knows under another name.
_CHARSET_FIXES = {
    "unknown-8bit": "",
    "x-unknown": "",
    "unknown": "",
    "default": "",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "x-user-defined": "",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",  # GB18030 is a superset; mailers label GBK text as gb2312
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "shift-jis": "shift_jis",
    "x-sjis": "shift_jis",
    "utf8": "utf-8",
    "iso-2022-jp": "iso2022_jp_ext",
}


def normalise_charset(label: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None when it is unknown/absent."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _CHARSET_FIXES.get(name, email.charset.ALIASES.get(name, name))
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> tuple[str, bool]:
    """Decode bytes using the declared charset, falling back to detection.

    Returns (text, clean); clean is False when the declared charset was unknown or wrong.
    """
    codec = normalise_charset(charset)
    if b"\x1b$" in data and codec in (None, "ascii", "utf-8"):
        # Undeclared ISO-2022-JP is 7-bit and would "decode" as ASCII with escape codes in it.
        codec = "iso2022_jp_ext"
    if codec:
        try:
            return data.decode(codec), True
        except (UnicodeDecodeError, LookupError):
            if codec.startswith("iso2022_jp") and data.isascii():  # else it is not JIS at all
                return _iso2022jp_as_cp932(data), False
    try:
        # Undeclared or wrong charset: UTF-8 is by far the commonest truth.
        return data.decode("utf-8"), charset is None or codec is None
    except UnicodeDecodeError:
        pass
    # Detection needs some text to be right; on a few bytes it guesses wildly (CJK for "Café").
    if len(data) >= 64:
        # Detect on a sample: detection cost grows with size, the answer does not change.
        best = charset_normalizer.from_bytes(data[:65536]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace"), False
    if codec:
        return data.decode(codec, errors="replace"), False
    try:
        return data.decode("cp1252"), False
    except UnicodeDecodeError:
        return data.decode("latin-1"), False


_JIS_ESCAPE = re.compile(rb"\x1b(\$[@B]|\([BJI])")


def _iso2022jp_as_cp932(data: bytes) -> str:
    """ISO-2022-JP with Microsoft/NEC extensions (circled digits, row 13), as mailers send it.

    Python's iso2022_jp codecs reject those rows; converting JIS to Shift_JIS and decoding
    with cp932 (what Windows mailers meant) accepts them.
    """
    out = bytearray()
    mode = b"(B"
    for i, chunk in enumerate(_JIS_ESCAPE.split(data)):
        if i % 2:  # the captured escape designation
            mode = chunk
            continue
        if mode not in (b"$B", b"$@"):
            out += bytes(b | 0x80 for b in chunk) if mode == b"(I" else chunk
            continue
        for j in range(0, len(chunk) - 1, 2):
            j1, j2 = chunk[j], chunk[j + 1]
            s1 = ((j1 - 0x21) >> 1) + 0x81
            s1 += 0x40 if s1 > 0x9F else 0
            # Odd JIS rows map to the low half of the Shift_JIS trail byte, skipping 0x7F.
            s2 = (j2 + 0x1F + (j2 + 0x1F >= 0x7F)) if j1 & 1 else j2 + 0x7E
            out += bytes((s1 & 0xFF, s2 & 0xFF))
    return out.decode("cp932", errors="replace")


def unsurrogate(value: str) -> str:
    """Repair raw 8-bit header text that the compat32 parser left as surrogate escapes."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("ascii", "surrogateescape")
    return decode_bytes(raw)[0]


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def decode_header_value(value: object) -> str:
    """Decode an RFC 2047 header value to str; never raises, never returns None."""
    if value is None:
        return ""
    text = unsurrogate(str(value))
    if "\x1b$" in text:  # raw ISO-2022-JP (7-bit, so it passed as ASCII)
        text = decode_bytes(text.encode("utf-8", "surrogateescape"))[0]
    if "=?" not in text:
        return _unfold(text)
    try:
        chunks = decode_header(text)
    except Exception:
        return _unfold(text)
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None:
            # decode_header turned the unencoded text into bytes with raw-unicode-escape.
            out.append(chunk.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(decode_bytes(chunk, charset)[0])
    # Unencoded chunks keep their own spaces; decode_header already dropped the
    # whitespace between adjacent encoded words, as RFC 2047 section 6.2 requires.
    return _unfold("".join(out))


def _unfold(text: str) -> str:
    text = re.sub(r"\r?\n[ \t]*", " ", text)
    return _CONTROL.sub("", text).strip()  # NULs and other controls seen in broken headers


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def raw_values(msg: Message, name: str) -> list[str]:
    """Header values as parsed (8-bit bytes as surrogates), not wrapped in Header objects."""
    wanted = name.lower()
    try:
        return [str(v) for k, v in msg.raw_items() if k.lower() == wanted]
    except Exception:
        return [str(v) for v in msg.get_all(name) or []]


def header(msg: Message, name: str) -> str:
    """First value of a header, decoded; empty string when absent or broken."""
    try:
        values = raw_values(msg, name)
        return decode_header_value(values[0]) if values else ""
    except Exception:
        return ""


def all_headers(msg: Message, name: str) -> list[str]:
    """All values of a header, decoded."""
    try:
        return [decode_header_value(v) for v in raw_values(msg, name)]
    except Exception:
        return []


def addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, names decoded."""
    values = [unsurrogate(v) for v in raw_values(msg, name)]
    pairs = []
    for display, addr in getaddresses(values):
        if addr or display:
            pairs.append((decode_header_value(display), addr.strip()))
    return [(n, a) for n, a in pairs if a]


_MSGID = re.compile(r"<([^<>\s]+)>")


def message_ids(value: str) -> list[str]:
    """Message-ids in a header value, without angle brackets (tolerates missing brackets)."""
    found = _MSGID.findall(value or "")
    if found:
        return found
    return [tok for tok in re.split(r"[\s,]+", value or "") if "@" in tok]


def param(msg: Message, name: str, header_name: str = "content-type") -> str | None:
    """A MIME parameter, RFC 2231 continuations/charsets and stray RFC 2047 decoded."""
    try:
        value = msg.get_param(name, header=header_name)
    except Exception:
        return None
    if value is None or value is True:
        return None
    if isinstance(value, tuple):
        charset, _lang, raw = value
        try:
            text = collapse_rfc2231_value(value)
        except (LookupError, UnicodeError):
            text = decode_bytes(raw.encode("latin-1", "replace"), charset)[0]
    else:
        text = str(value)
    text = unsurrogate(text)
    if _ENCODED_WORD.search(text):  # RFC 2047 in a parameter: wrong, but Outlook does it
        text = decode_header_value(text)
    return text.strip() or None


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Readable text from HTML; with drop_quotes, quoted history blocks are removed first."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    if drop_quotes:
        for tag in soup.select(
            "blockquote, div.gmail_quote, div.gmail_extra, div.yahoo_quoted, "
            "div#divRplyFwdMsg, div#appendonsend, div.moz-cite-prefix"
        ):
            tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "tr", "li", "h1", "h2", "h3", "h4", "hr", "table"]):
        block.insert_before("\n")
        block.insert_after("\n")
    text = soup.get_text()
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
