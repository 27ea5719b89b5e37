"""Query words for knowledge-base search, the same on SQLite and PostgreSQL (pure)."""

from __future__ import annotations

import re

# Words too common to tell articles apart; removed from queries on both databases alike.
_STOPWORDS = """
a about after all also am an and any are as at be been but by can cannot could did do does doing
dont for from get got had has have having he hello help her hi his how i if im in into is it its
just me my no not of on or our please she so some than thank thanks that the their them then there
these they this to too up us was we were what when where which who why will with would you your
"""
STOPWORDS = frozenset(_STOPWORDS.split())
MAX_TERMS = 16
_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(query: str) -> list[str]:
    """Distinct lower-case words of a query, without stop words, at most MAX_TERMS."""
    words = [w.lower() for w in _WORD.findall(query)]
    keep = [w for w in words if w not in STOPWORDS and len(w) > 1 and "_" not in w]
    return list(dict.fromkeys(keep))[:MAX_TERMS]


def _stem(term: str) -> str:
    return term if len(term) <= 4 else term[: max(4, len(term) - 2)]


def coverage(texts: list[str], terms: list[str]) -> int:
    """How many query terms occur in `texts` (a word-prefix match stands in for stemming)."""
    words = set(_WORD.findall(" ".join(texts).lower()))
    return sum(1 for t in terms if any(w.startswith(_stem(t)) for w in words))
