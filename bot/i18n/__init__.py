"""Customer-facing texts as translatable templates: one TOML catalog per language in this folder.

`text(key, lang, **values)` fills a template; a language or key that is missing falls back to
English. The language of a customer comes from their platform locale (Slack/Discord locale or
mail Content-Language, stored on the customer), else a settings profile, else the default.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from functools import cache
from pathlib import Path

from babel.dates import format_timedelta

HERE = Path(__file__).parent
FALLBACK = "en"
LANGUAGES = ("en", "hr", "sl", "ru", "hu", "pl")


@cache
def catalog(lang: str) -> dict[str, str]:
    path = HERE / f"{lang}.toml"
    if lang not in LANGUAGES or not path.exists():
        return {}
    with path.open("rb") as fh:
        return {k: v for k, v in tomllib.load(fh).items() if isinstance(v, str)}


def language(locale: str | None, default: str = FALLBACK) -> str:
    """`hr-HR`, `hr_HR`, `HR` → `hr`; unsupported or empty → `default` (if supported)."""
    base = (locale or "").strip().replace("_", "-").split("-")[0].lower()
    if base in LANGUAGES:
        return base
    fallback = default.replace("_", "-").split("-")[0].lower()
    return fallback if fallback in LANGUAGES else FALLBACK


def text(key: str, lang: str | None, **values: object) -> str:
    """The template `key` in `lang` (English when missing there), filled with `values`."""
    template = catalog(language(lang)).get(key) or catalog(FALLBACK)[key]
    return template.format(**values)


def duration(delta: timedelta, lang: str | None) -> str:
    """A duration in words in `lang` ("4 sata", "30 perc"), by CLDR data from Babel."""
    return format_timedelta(delta, locale=language(lang), threshold=1.5)
