"""Tests for bot.formatting: Slack/Discord/plain/email conversion, escaping and splitting."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.formatting import (
    escape_markdown,
    from_discord,
    from_slack,
    split_text,
    to_discord,
    to_email_html,
    to_plain,
    to_slack,
    truncate,
)
from bot.formatting._markdown import fence_spans

ZWSP = "\u200b"
USERS = {"U123": "Alice", "U456": "Bob *the* <builder>", "111": "Dana", "222": "Eve_x"}
CHANNELS = {"C1": "general", "C2": "random", "555": "help-desk"}
ROLES = {"777": "Staff"}
FAST = settings(max_examples=150, deadline=None, database=None)  # no .hypothesis/ dir


def slack(text: str) -> str:
    return from_slack(text, USERS.get, CHANNELS.get)


def discord(text: str) -> str:
    return from_discord(text, USERS.get, ROLES.get, CHANNELS.get)


# --- Slack -> canonical ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mrkdwn", "canonical"),
    [
        ("*bold*", "**bold**"),
        ("_it_", "_it_"),
        ("~gone~", "~~gone~~"),
        ("*bold _and it_*", "**bold _and it_**"),
        ("*run `rm *x*` now*", "**run `rm *x*` now**"),
        ("*a* ~*b*~ *<@U123>*", "**a** ~~**b**~~ **@Alice**"),
        ("<https://x.com/a|the docs>", "[the docs](https://x.com/a)"),
        ("<https://x.com/a>", "https://x.com/a"),
        ("<http://example.com|example.com>", "http://example.com"),
        ("<https://x.com/?a=1&amp;b=2|q>", "[q](https://x.com/?a=1&b=2)"),
        ("<https://x.com/w_(x)|wiki>", "[wiki](<https://x.com/w_(x)>)"),
        ("<mailto:a@b.com|a@b.com>", "a@b.com"),
        ("<mailto:a@b.com|write us>", "[write us](mailto:a@b.com)"),
        ("hi <@U123>", "hi @Alice"),
        ("hi <@U999>", "hi @U999"),
        ("hi <@U999|carol>", "hi @carol"),
        ("<#C1|general>", "#general"),
        ("<#C2|>", "#random"),
        ("<#C9>", "#C9"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!subteam^S1|@support-team>", "@support-team"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
        ("a &amp; b &lt;tag&gt; &amp;lt;", "a & b <tag> &lt;"),
        ("&gt; quoted\nnot", "> quoted\nnot"),
        ("• one\n    ◦ two", "- one\n    - two"),
        ("2*3*4 and * alone", "2\\*3\\*4 and \\* alone"),
        ("C:\\_temp\\dir", "C:\\\\_temp\\dir"),
    ],
)
def test_from_slack(mrkdwn: str, canonical: str) -> None:
    assert slack(mrkdwn) == canonical


def test_from_slack_escapes_resolved_names_as_literal_text() -> None:
    canonical = slack("<@U456> says hi")
    assert canonical == "@Bob \\*the\\* \\<builder\\> says hi"
    assert to_plain(canonical) == "@Bob *the* <builder> says hi"
    assert to_email_html(canonical) == "<p>@Bob *the* &lt;builder&gt; says hi</p>"


def test_from_slack_code_is_literal_and_fenced_on_its_own_lines() -> None:
    canonical = slack("see ```a *b* _c_ ~d~ &lt;x&gt; <@U123>``` and `x*y*z` done")
    assert canonical == "see \n```\na *b* _c_ ~d~ <x> @Alice\n```\n and `x*y*z` done"
    assert to_slack(canonical) == (
        "see \n```\na *b* _c_ ~d~ &lt;x&gt; @Alice\n```\n and `x*y*z` done"
    )
    assert "<pre><code>a *b* _c_ ~d~ &lt;x&gt; @Alice</code></pre>" in to_email_html(canonical)


def test_from_slack_multiline_fence() -> None:
    assert slack("```\nline 1\n  *line 2*\n```") == "```\nline 1\n  *line 2*\n```"


# --- canonical -> Slack ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("canonical", "mrkdwn"),
    [
        ("**bold** _it_ *it* ~~s~~", "*bold* _it_ _it_ ~s~"),
        ("**bold _nested_ text**", "*bold _nested_ text*"),
        ("[docs](https://x.com/a?b=1&c=2)", "<https://x.com/a?b=1&amp;c=2|docs>"),
        ("[a | b > c](https://x.com)", "<https://x.com|a ∣ b &gt; c>"),
        ("[**bold** label](https://x.com)", "<https://x.com|bold label>"),
        ("https://x.com/a_b_", "<https://x.com/a_b_>"),
        ("write a@b.com", "write <mailto:a@b.com|a@b.com>"),
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
        ("`a <b> & *c*`", "`a &lt;b&gt; &amp; *c*`"),
        ("```py\nif a < b and c & d: *x*\n```", "```\nif a &lt; b and c &amp; d: *x*\n```"),
        ("> quoted **line**\n\n- one\n  - two", "> quoted *line*\n\n• one\n    • two"),
        ("line one\nline two", "line one\nline two"),
    ],
)
def test_to_slack(canonical: str, mrkdwn: str) -> None:
    assert to_slack(canonical) == mrkdwn


@pytest.mark.parametrize(
    "typed",
    ["<!channel>", "<!here|here>", "<@U123>", "<#C1|general>", "<!date^1|today>"],
)
def test_to_slack_escapes_typed_slack_syntax(typed: str) -> None:
    out = to_slack(f"please {typed} now")
    assert "<" not in out and ">" not in out
    assert "&lt;" in out and "&gt;" in out


def test_typed_slack_link_syntax_cannot_hide_its_target() -> None:
    # In deskbot markdown <url|x> is an autolink to the whole text, so Slack shows the URL itself.
    assert to_slack("pay at <https://evil.example|bank>") == "pay at <https://evil.example%7Cbank>"
    assert to_slack("[bank](https://x.com|<!channel>)") == "<https://x.com%7C%3C!channel%3E|bank>"


def test_entities_typed_by_users_stay_literal_everywhere() -> None:
    canonical = slack("I typed &amp;lt; literally")  # Slack escapes the user's "&"
    assert canonical == "I typed &lt; literally"
    assert to_slack(canonical) == "I typed &amp;lt; literally"
    assert to_plain(canonical) == "I typed &lt; literally"
    assert to_email_html(canonical) == "<p>I typed &amp;lt; literally</p>"


_SLACK_LINK = re.compile(r"<(?:https?://|mailto:)[^<>|\s]*(?:\|[^<>]*)?>")


@FAST
@given(st.text(alphabet="ab @!#<>&|*_~`[]()\n:/.hUtpsx", max_size=80))
def test_to_slack_never_emits_raw_angle_brackets_except_links(text: str) -> None:
    out = re.sub(r"(?m)^(?:>(?: |$))+", "", to_slack(text))  # quote markers we wrote
    assert "<!" not in out and "<@" not in out and "<#" not in out
    assert not re.search(r"[<>]", _SLACK_LINK.sub("", out))
    assert not re.search(r"&(?!amp;|lt;|gt;)", out)  # every & is an entity we wrote


@pytest.mark.parametrize(
    "mrkdwn",
    [
        "*bold* and _it_ and ~s~",
        "<https://x.com|the docs> then <https://y.com>",
        "&lt;!channel&gt; &amp; a &gt; b",
        "plain text, nothing else",
    ],
)
def test_slack_round_trip_is_stable(mrkdwn: str) -> None:
    assert to_slack(slack(mrkdwn)) == mrkdwn


def test_slack_quotes_and_bullets_survive_a_round_trip() -> None:
    # Slack delivers a quote as "&gt; "; a ">" at the start of a posted line quotes it again.
    assert (
        to_slack(slack("&gt; a quote\n• item one\n• item two"))
        == "> a quote\n• item one\n• item two"
    )


# --- Slack -> canonical -> plain / email / Discord ------------------------------------


SLACK_REPLY = (
    "Hi <@U123>, *thanks* for the report!\n"
    "Try <https://docs.example.com/reset?x=1&amp;y=2|the reset guide> or mail "
    "<mailto:help@x.io|help@x.io>.\n"
    "&gt; my printer says &lt;error 5&gt;\n"
    "```sudo reset --all *now*```\n"
    "• step _one_\n"
    "• step ~two~\n"
    "<!channel> please ignore"
)


def test_round_trip_slack_to_plain() -> None:
    assert to_plain(slack(SLACK_REPLY)) == (
        "Hi @Alice, thanks for the report!\n"
        "Try the reset guide (https://docs.example.com/reset?x=1&y=2) or mail help@x.io.\n"
        "> my printer says <error 5>\n"
        "```\nsudo reset --all *now*\n```\n"
        "- step one\n"
        "- step ~~two~~\n"
        "@channel please ignore"
    )


def test_round_trip_slack_to_email_html() -> None:
    assert to_email_html(slack(SLACK_REPLY)) == (
        "<p>Hi @Alice, <strong>thanks</strong> for the report!<br>\n"
        'Try <a href="https://docs.example.com/reset?x=1&amp;y=2">the reset guide</a> or mail '
        '<a href="mailto:help@x.io">help@x.io</a>.</p>\n'
        "<blockquote>\n<p>my printer says &lt;error 5&gt;</p>\n</blockquote>\n"
        "<pre><code>sudo reset --all *now*</code></pre>\n"
        "<ul><li>step <em>one</em></li><li>step <s>two</s></li></ul>\n"
        "<p>@channel please ignore</p>"
    )


def test_round_trip_slack_to_discord() -> None:
    assert to_discord(slack(SLACK_REPLY)) == (
        "Hi @Alice, **thanks** for the report!\n"
        "Try [the reset guide](https://docs.example.com/reset?x=1&y=2) or mail help@x.io.\n"
        "> my printer says <error 5>\n"
        "```\nsudo reset --all *now*\n```\n"
        "- step _one_\n"
        "- step ~~two~~\n"
        "@channel please ignore"
    )


# --- Discord ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "canonical"),
    [
        ("hi <@111> and <@!222>", "hi @Dana and @Eve\\_x"),
        ("ping <@&777> in <#555>", "ping @Staff in #help-desk"),
        ("unknown <@999> <@&998> <#997>", "unknown @999 @998 #997"),
        ("<:blob:123> <a:dance:456>", ":blob: :dance:"),
        ("at <t:1700000000:R>", "at 2023-11-14 22:13 UTC"),
        ("use </claim:42>", "use /claim"),
        ("<https://x.com/no_embed>", "https://x.com/no_embed"),
        ("# Title\n-# small print", "**Title**\nsmall print"),
        ("* one\n  * two", "- one\n  - two"),
        (">>> all\nof this", "> all\n> of this"),
        ("```py\nx = '<@111>'```", "```py\nx = '<@111>'\n```"),
        ("`<@111>` stays", "`<@111>` stays"),
        ("**b** *i* __u__ ~~s~~ ||spoiler||", "**b** *i* __u__ ~~s~~ ||spoiler||"),
    ],
)
def test_from_discord(content: str, canonical: str) -> None:
    assert discord(content) == canonical


@pytest.mark.parametrize(
    ("canonical", "content"),
    [
        ("@everyone look", f"@{ZWSP}everyone look"),
        ("hey @here!", f"hey @{ZWSP}here!"),
        ("<@123> <@!123> <@&456> <#789>", f"<@{ZWSP}123> <@!{ZWSP}123> <@&{ZWSP}456> <#{ZWSP}789>"),
        ("# not a heading\n## nor this", "\\# not a heading\n\\## nor this"),
        ("code `@everyone <@1>` stays", "code `@everyone <@1>` stays"),
        ("```\n@here <@1>\n```", "```\n@here <@1>\n```"),
    ],
)
def test_to_discord_neutralises_mentions_outside_code(canonical: str, content: str) -> None:
    assert to_discord(canonical) == content


def test_to_discord_changes_nothing_else() -> None:
    canonical = (
        "**Bold** _it_ ~~s~~ `c*d*` [docs](https://x.com) https://y.com\n"
        "> quote\n- item\n```py\nprint('hi')\n```\nC:\\\\path 2\\*3 & < >"
    )
    assert to_discord(canonical) == canonical


def test_discord_injection_typed_by_customer_is_safe_in_slack() -> None:
    canonical = discord("hey <!channel> @everyone <@U123> &lt;")
    assert to_slack(canonical) == "hey &lt;!channel&gt; @everyone &lt;@U123&gt; &amp;lt;"
    assert to_discord(canonical) == f"hey <!channel> @{ZWSP}everyone <@U123> &lt;"


@FAST
@given(st.text(alphabet="@everyonhr<>!&#123 `\n", max_size=60))
def test_to_discord_output_has_no_live_mentions_outside_code(text: str) -> None:
    out = to_discord(text.replace("`", ""))
    assert "@everyone" not in out and "@here" not in out
    assert not re.search(r"<(@[!&]?|#)\d", out)


# --- plain text and email HTML --------------------------------------------------------


@pytest.mark.parametrize(
    ("canonical", "plain"),
    [
        ("**b** _i_ ~~s~~ `c`", "b i ~~s~~ `c`"),
        ("[docs](https://x.com)", "docs (https://x.com)"),
        ("[https://x.com](https://x.com)", "https://x.com"),
        ("<https://x.com>", "https://x.com"),
        ("\\*not bold\\*", "*not bold*"),
        ("> a\n>\n> b", "> a\n>\n> b"),
        ("```sh\nrm -rf *tmp*\n```", "```sh\nrm -rf *tmp*\n```"),
        ("code ``a`b``", "code ``a`b``"),
    ],
)
def test_to_plain(canonical: str, plain: str) -> None:
    assert to_plain(canonical) == plain


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.extend(attrs)


ALLOWED_TAGS = {"p", "br", "strong", "em", "s", "code", "pre", "a", "blockquote", "ul", "li"}


def test_email_html_escapes_and_only_links_safe_schemes() -> None:
    html = to_email_html(
        '<script>alert(1)</script> [x](javascript:alert(1)) [y](ftp://h/f) [z](https://ok.example/"q")'
    )
    assert "<script" not in html and "javascript:" not in html.split("</p>")[0].split("<a")[-1]
    assert html == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(1)) y (ftp://h/f) "
        '<a href="https://ok.example/%22q%22">z</a></p>'
    )


@FAST
@given(st.text(alphabet="ab <>\"'&*_~`[]()\n>-:/.jvscriptmhl", max_size=80))
def test_email_html_only_uses_the_safe_tag_set(text: str) -> None:
    parser = _Tags()
    parser.feed(to_email_html(text))
    assert parser.tags <= ALLOWED_TAGS
    for name, value in parser.attrs:
        assert name == "href"
        assert value is not None and value.startswith(("http://", "https://", "mailto:"))


def test_escape_markdown_round_trips_literal_text() -> None:
    literal = "a*b_c~d`e[f]g<h>i\\j"
    assert to_plain(escape_markdown(literal)) == literal


# --- split_text and truncate ----------------------------------------------------------


def _squash(text: str) -> str:
    return "".join(text.split())


def _without_fence_lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("```"))


def test_2500_char_reply_splits_into_two_for_discord() -> None:
    sentence = "The printer queue was reset and your job should print now. "
    reply = (sentence * 50)[:2500]
    chunks = split_text(reply, 2000)
    assert len(chunks) == 2
    assert all(len(c) <= 2000 for c in chunks)
    assert chunks[0].endswith(".")  # cut at a sentence end, not mid-word
    assert _squash("".join(chunks)) == _squash(reply)


def test_split_prefers_paragraphs_then_lines() -> None:
    text = "a" * 60 + "\n\n" + "b" * 30 + "\n" + "c" * 30
    assert split_text(text, 100) == ["a" * 60, "b" * 30 + "\n" + "c" * 30]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("short", 10) == ["short"]


def test_split_refences_a_code_block_with_its_language() -> None:
    code = "\n".join(f"row {i:03d} = {i * i}" for i in range(100))
    text = f"Output:\n```py\n{code}\n```\nDone."
    chunks = split_text(text, 300)
    assert len(chunks) > 2
    for chunk in chunks:
        assert len(chunk) <= 300
        assert sum(line.startswith("```") for line in chunk.split("\n")) % 2 == 0
    assert all(c.startswith("```py\n") for c in chunks[1:-1])
    joined = "\n".join(_without_fence_lines(c) for c in chunks)
    assert _squash(joined) == _squash(_without_fence_lines(text))


_WORDS = st.text(alphabet="abcdefg .,!?*_-", min_size=1, max_size=30)
_PROSE = st.lists(_WORDS, min_size=1, max_size=6).map(" ".join)
_FENCE = st.builds(
    lambda lang, lines: f"```{lang}\n" + "\n".join(lines) + "\n```",
    st.sampled_from(["", "py", "json"]),
    st.lists(st.text(alphabet="xyz{}();= ", min_size=1, max_size=40), min_size=1, max_size=12),
)


@FAST
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="`"), max_size=400),
    st.integers(min_value=1, max_value=120),
)
def test_split_without_fences_keeps_every_character(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(len(c) <= limit for c in chunks)
    assert _squash("".join(chunks)) == _squash(text)


@FAST
@given(
    st.lists(st.one_of(_PROSE, _FENCE), min_size=1, max_size=8),
    st.sampled_from(["\n", "\n\n"]),
    st.integers(min_value=30, max_value=200),
)
def test_split_with_fences_keeps_every_chunk_fenced(
    blocks: list[str], sep: str, limit: int
) -> None:
    text = sep.join(blocks)
    chunks = split_text(text, limit)
    assert all(len(c) <= limit for c in chunks)
    for chunk in chunks:
        fence_lines = [ln for ln in chunk.split("\n") if ln.startswith("```")]
        assert len(fence_lines) % 2 == 0, chunk
        assert all(s.content_end > s.content_start for s in fence_spans(chunk)), chunk
    joined = "".join(_without_fence_lines(c) for c in chunks)
    assert _squash(joined) == _squash(_without_fence_lines(text))


@FAST
@given(st.text(max_size=300), st.integers(min_value=1, max_value=60))
def test_split_any_text_respects_the_limit(text: str, limit: int) -> None:
    assert all(len(c) <= limit for c in split_text(text, limit))


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("one two three four five", 14) == "one two three…"
    assert truncate("abcdefghij", 5) == "abcd…"
    long_code = "Log:\n```\n" + "\n".join(f"line {i}" for i in range(50)) + "\n```"
    cut = truncate(long_code, 60)
    assert len(cut) <= 60
    assert cut.endswith("```\n…")
    assert sum(line.startswith("```") for line in cut.split("\n")) == 2


@FAST
@given(st.text(max_size=200), st.integers(min_value=0, max_value=50))
def test_truncate_respects_the_limit(text: str, limit: int) -> None:
    out = truncate(text, limit)
    assert len(out) <= limit
    assert out == text or out.endswith("…") or (limit == 0 and out == "")


def test_human_size_for_file_notices() -> None:
    from bot.formatting.sizes import human_size

    assert [human_size(n) for n in (0, -1, 200, 1536, 19_968, 5 * 1024**3)] == [
        "", "", "200 B", "1.5 KB", "19.5 KB", "5.0 GB",
    ]  # fmt: skip
