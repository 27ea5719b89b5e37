"""Knowledge base on SQLite (FTS5) and PostgreSQL (tsvector): import, relevance, visibility,
offers in the ack, "solved", and the approval flow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.services import kb
from bot.services.ports import FakeClock
from tests.e2e.dialogue import run_dialogue, to

ARTICLES = {
    "reset-password": (
        "How to reset your password",
        "If you forgot your password, open the login page and click *Forgot password*. "
        "We email you a reset link that is valid for one hour.",
        "keywords: login, forgot",
    ),
    "printer-jam": (
        "Clearing a paper jam in the office printer",
        "Open the front tray, gently remove the jammed paper, close the tray and print a test "
        "page.",
        "keywords: printer, paper\ntags: hardware",
    ),
    "vpn-setup": (
        "Connecting to the VPN from home",
        "Install the WireGuard client, import your profile from the portal and connect. "
        "Remote access needs two-factor authentication.",
        "keywords: remote, wireguard",
    ),
    "invoice-copy": (
        "Downloading a copy of your invoice",
        "Invoices are under Billing → Documents. Click an invoice to download it as a PDF.",
        "keywords: billing, receipt\ntags: billing",
    ),
    "refund-policy": (
        "Refund policy",
        "You can ask for a refund within 30 days of purchase. Refunds go to the original "
        "payment method within 5 business days.",
        "keywords: money back, return\ntags: billing",
    ),
    "change-email": (
        "Changing the email address of your account",
        "Go to Settings → Profile, enter the new email address and confirm the link we send.",
        "keywords: profile, address",
    ),
    "two-factor": (
        "Setting up two-factor authentication",
        "Open Settings → Security, scan the QR code with an authenticator app and enter the "
        "6-digit code.",
        "keywords: 2fa, authenticator, security",
    ),
    "wifi-guest": (
        "Guest Wi-Fi access",
        "Visitors connect to the network DeskGuest; the daily password is shown at reception.",
        "keywords: wifi, wireless, network, guest",
    ),
    "escalation": (
        "Escalating to second-line support",
        "Agents: tag the ticket l2 and transfer it to the tech queue.",
        "visibility: internal",
    ),
    "printer-firmware": (
        "Upcoming printer firmware",
        "The printer firmware update fixes paper jams. Not announced yet.",
        "state: draft",
    ),
}

# A customer's words → the article that answers them (the labelled set).
LABELLED = [
    ("I forgot my password and cannot log in", "reset-password"),
    ("the printer has paper stuck inside", "printer-jam"),
    ("how do I connect to the VPN when working from home", "vpn-setup"),
    ("where can I download my invoice as PDF", "invoice-copy"),
    ("I want my money back", "refund-policy"),
    ("refund", "refund-policy"),
    ("how to change my email address", "change-email"),
    ("set up an authenticator app for 2FA", "two-factor"),
    ("what is the wifi password for visitors", "wifi-guest"),
    ("printing a test page", "printer-jam"),
]


def write_folder(root: Path) -> Path:
    folder = root / "kb"
    (folder / "sub").mkdir(parents=True)
    for n, (slug, (title, body, meta)) in enumerate(ARTICLES.items()):
        target = folder / ("sub" if n % 2 else "") / f"{slug}.md"
        target.write_text(f"---\ntitle: {title}\n{meta}\n---\n{body}\n", encoding="utf-8")
    return folder


@pytest.fixture
async def app(db_url: str, tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(database_url=db_url, _env_file=None)  # type: ignore[call-arg]
    application = await build_app(settings, clock=FakeClock())
    async with application.uow() as uow:
        report = await kb.import_drafts(
            kb.read_folder(write_folder(tmp_path)), uow, "ada", application.core.clock.now()
        )
        await uow.commit()
    assert len(report) == len(ARTICLES) and all(r.startswith("added") for r in report)
    yield application
    await application.stop()


async def search(app: App, text: str, **kw: object) -> list[str]:
    async with app.uow() as uow:
        return [a.slug for a, _ in await uow.kb.search(text, **kw)]  # type: ignore[arg-type]


async def test_labelled_queries_find_the_right_article_first(app: App) -> None:
    misses = []
    for query, expected in LABELLED:
        found = await search(app, query, limit=3)
        if not found or found[0] != expected:
            misses.append((query, expected, found))
    assert misses == []


async def test_offers_need_shared_words_and_respect_the_limit(app: App) -> None:
    async with app.uow() as uow:
        offered = await kb.best_public(uow, "I forgot my password for the login page", 2)
        assert [a.slug for a in offered][:1] == ["reset-password"] and len(offered) <= 2
        assert await kb.best_public(uow, "hello, I have a question", 3) == []
        assert await kb.best_public(uow, "good morning", 3) == []
    assert len(await search(app, "the and password printer paper invoice refund", limit=2)) == 2


async def test_internal_and_draft_articles_stay_out_of_public_search(app: App) -> None:
    assert await search(app, "escalating second line support") == []
    staff = await search(app, "escalating second line support", public_only=False)
    assert staff[:1] == ["escalation"]
    assert "printer-firmware" not in await search(app, "printer firmware", limit=10)
    drafts = await search(app, "printer firmware", limit=10, published_only=False)
    assert drafts[0] == "printer-firmware"


async def test_reimport_updates_by_slug(app: App, tmp_path: Path) -> None:
    folder = tmp_path / "again"
    folder.mkdir()
    (folder / "refund-policy.md").write_text(
        "# Refunds, updated\n\nRefunds now take 3 business days.", encoding="utf-8"
    )
    async with app.uow() as uow:
        report = await kb.import_drafts(kb.read_folder(folder), uow, "ada", app.core.clock.now())
        await uow.commit()
    assert report[0].startswith("updated KB-") and report[0].endswith("Refunds, updated")
    async with app.uow() as uow:
        article = await uow.kb.by_slug("refund-policy")
        assert article.title == "Refunds, updated" and "3 business days" in article.body
        # the full-text index followed the update
        assert [a.slug for a, _ in await uow.kb.search("3 business days refunds")][0] == (
            "refund-policy"
        )


def test_markdown_front_matter_and_heading() -> None:
    draft = kb.parse_markdown(
        "---\ntags: [a, b]\nvisibility: internal\n---\n# Title here\n\nBody", "file-name"
    )
    assert (draft.title, draft.tags, draft.visibility, draft.slug) == (
        "Title here",
        ["a", "b"],
        "internal",
        "file-name",
    )
    assert kb.parse_markdown("just text", "my_note").title == "my note"


SCRIPT_TEAM = """
:admin ada
:lead lee
:agent bob
"""


async def test_ack_offers_articles_and_solved_resolves(db_url: str) -> None:
    out, code = await run_dialogue(
        SCRIPT_TEAM
        + """
        lee: /kb add How to reset your password | Open login, click Forgot password. | login
        alice: I forgot my password and cannot log in
        alice: solved
        dave: forgot password again, login broken
        dave: /solved
        erin: the coffee machine is broken
        erin: solved
        bob@T-1: /history
    """,
        db_url,
    )
    assert code == 0
    ack = to(out, "alice", "ack")[0]
    assert "These articles may answer your question:\n• How to reset your password" in ack["text"]
    assert "reply “solved”" in ack["text"]
    card = [d for d in to(out, "agents", "card") if d["ticket"] == "T-1"][0]
    assert "KB How to reset your password" in card["text"]
    assert to(out, "alice", "system")[0]["text"].startswith("Glad that helped! T-1 is now resolved")
    assert to(out, "dave", "result")[0]["text"].startswith("Glad that helped! T-2")
    assert not to(out, "alice", "survey") and not to(out, "dave", "survey")
    # no article was offered to erin: "solved" is just a message
    assert "These articles" not in to(out, "erin", "ack")[0]["text"]
    assert not to(out, "erin", "system")
    history = to(out, "bob", "result")[-1]["text"]
    assert "new → resolved" in history and "resolved → open" not in history


async def test_agent_article_waits_for_a_lead(db_url: str) -> None:
    out, _ = await run_dialogue(
        SCRIPT_TEAM
        + """
        bob: /kb add Printer jam | Open the tray and remove the paper. | printer
        alice: /kb search printer paper
        bob: /kb publish KB-1
        lee: /kb publish KB-1
        alice: /kb search printer paper
        alice: /kb show KB-1
        bob: /kb add internal Escalation | Tag l2 and transfer to tech.
        alice: /kb show KB-2
        bob: /kb show KB-2
        bob: /kb list draft
    """,
        db_url,
    )
    bob = [d["text"] for d in to(out, "bob")]
    assert "saved as a draft" in bob[0]
    assert "only for leads" in bob[1]
    alice = [d["text"] for d in to(out, "alice")]
    assert alice[0] == "No articles match."
    assert alice[1] == "KB-1 Printer jam"
    assert alice[2].startswith("KB-1 Printer jam") and "remove the paper" in alice[2]
    assert alice[3] == "There is no article KB-2."
    assert "[draft · internal · by bob]" in bob[3]
    assert bob[4] == "KB-2 [draft · internal] Escalation"
    assert "is published" in to(out, "lee", "result")[0]["text"]


def test_cli_imports_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DESKBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)  # no stray .env
    assert main(["kb", "import", str(write_folder(tmp_path))]) == 0
    assert f"{len(ARTICLES)} article(s) imported" in capsys.readouterr().out
    assert main(["kb", "import", str(tmp_path / "missing")]) == 2
