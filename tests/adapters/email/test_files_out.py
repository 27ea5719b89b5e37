"""Files an agent shared, as an email answer lists and attaches them."""

from __future__ import annotations

from pathlib import Path

from adapters.email.files_out import shared_files


def test_kept_copies_attach_within_the_budget_and_link_beyond_it(tmp_path: Path) -> None:
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_bytes(b"x" * 10)
    big.write_bytes(b"y" * 100)
    slack = "https://acme.slack.com/files/U1/F2/big.bin"
    files = shared_files(
        {
            "attachments": [
                {"filename": "small.txt", "url": small.as_uri(), "link": None},
                {"filename": "big.bin", "url": big.as_uri(), "link": slack, "size": 100},
                {"filename": "web.png", "url": "https://cdn.example/web.png"},
            ]
        },
        max_bytes=50,
    )
    assert [(f.filename, f.data, f.link) for f in files] == [
        ("small.txt", b"x" * 10, None),
        ("big.bin", None, slack),  # over the budget: its original link, never the local path
        ("web.png", None, "https://cdn.example/web.png"),
    ]
