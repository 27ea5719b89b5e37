"""Customer-facing templates: every language has every text with the same placeholders."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest

from bot import i18n
from bot.domain.model import Customer, Ticket
from bot.services.automation_config import AutomationConfig, CustomerProfile
from bot.services.context import Core, Policy
from bot.services.customer_texts import ack, customer_language
from bot.services.ports import FakeClock


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_language_has_every_text_with_the_same_placeholders(lang: str) -> None:
    english, other = i18n.catalog("en"), i18n.catalog(lang)
    assert set(other) == set(english)
    for key, template in english.items():
        assert fields(other[key]) == fields(template), (lang, key)
        assert other[key] != template or key == "article_line", (lang, key)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("hr-HR", "hr"), ("sl_SI", "sl"), ("RU", "ru"), ("pl", "pl"), ("hu-HU", "hu"),
     ("de-DE", "en"), (None, "en"), ("", "en")],
)  # fmt: skip
def test_language_from_locale(locale: str | None, expected: str) -> None:
    assert i18n.language(locale) == expected
    assert i18n.language("xx", "sl") == "sl"


def test_missing_key_or_language_falls_back_to_english() -> None:
    assert i18n.text("status_closed", "de", ref="T-1") == (
        "T-1 is now closed. Thanks for getting in touch!"
    )
    assert i18n.duration(timedelta(hours=4), "pl") == "4 godziny"
    assert i18n.duration(timedelta(minutes=30), "hu") == "30 perc"


def core(**automation: object) -> Core:
    return Core(Policy(automation=AutomationConfig(**automation)), FakeClock())  # type: ignore[arg-type]


def ticket() -> Ticket:
    return Ticket(1, "T-1", "Printer", 1, "console:alice:", "console", datetime.now(UTC))


def test_english_ack_is_unchanged() -> None:
    text, payload = ack(ticket(), Customer(1, "alice"), core(), [])
    assert text == (
        "Thanks alice, we've opened ticket T-1: \u201cPrinter\u201d. "
        "We usually reply within 4 hours."
    )
    assert payload == {}


def test_language_follows_customer_locale_then_profile_then_default() -> None:
    c = core(
        default_locale="pl",
        customers=[CustomerProfile("firma.hu", locale="hu"), CustomerProfile("x.si")],
    )
    assert customer_language(Customer(1, "a", locale="ru-RU"), c) == "ru"
    assert customer_language(Customer(1, "a", email="z@firma.hu"), c) == "hu"
    assert customer_language(Customer(1, "a", email="z@x.si"), c) == "pl"
    assert customer_language(None, c) == "pl"
    text, _ = ack(ticket(), Customer(1, "Ana", locale="hr"), c, [])
    assert (
        text
        == "Hvala, Ana, otvorili smo zahtjev T-1: „Printer”. Uobičajeno vrijeme odgovora: 4 sata."
    )
