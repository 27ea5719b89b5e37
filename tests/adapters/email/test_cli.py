"""`deskbot email parse PATH… --json`: files and folders in, one JSON object per mail out."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from adapters.email.cli import main, run_parse

MAIL = (
    b"From: Carol <carol@customer.test>\r\nTo: support@helpdesk.test\r\n"
    b"Subject: Re: [T-42] VPN down\r\nMessage-ID: <c1@customer.test>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nStill down.\r\n\r\n> old quote\r\n"
    b'--b\r\nContent-Type: application/pdf; name="log.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
)


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.eml").write_bytes(MAIL)
    (tmp_path / "sub" / "deeper" / "b.eml").write_bytes(
        MAIL.replace(b"[T-42]", b"").replace(b"c1@", b"c2@")
    )
    (tmp_path / "sub" / "notes.txt").write_bytes(b"\x00\x01 not a mail")
    (tmp_path / ".hidden.eml").write_bytes(MAIL)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.eml").write_bytes(MAIL)
    return tmp_path


def test_run_parse_walks_folders_and_prints_one_json_line_per_mail(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_parse([str(_tree(tmp_path))], out=out) == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    names = [Path(r["file"]).name for r in records]
    assert names == ["a.eml", "notes.txt", "b.eml"]  # top-down, sorted, hidden skipped

    first = records[0]
    assert set(first) >= {
        "file", "message_id", "from_email", "from_name", "subject", "text", "body",
        "attachments", "automatic", "ticket_ref_in_subject",
    }  # fmt: skip
    assert first["message_id"] == "c1@customer.test"
    assert (first["from_email"], first["from_name"]) == ("carol@customer.test", "Carol")
    assert first["text"] == "Still down."
    assert first["ticket_ref_in_subject"] == "T-42"
    assert first["automatic"] is None
    assert first["error"] is None
    pdf = b"%PDF-1.4\n"
    assert first["attachments"] == [
        {
            "filename": "log.pdf",
            "content_type": "application/pdf",
            "size": len(pdf),
            "md5": hashlib.md5(pdf).hexdigest(),
        }
    ]
    assert records[1]["error"] == "no mail headers found"
    assert records[2]["ticket_ref_in_subject"] is None


def test_run_parse_honours_ref_prefix_and_single_files(tmp_path: Path) -> None:
    mail = tmp_path / "m.eml"
    mail.write_bytes(MAIL.replace(b"[T-42]", b"[HD-7]"))
    out = io.StringIO()
    assert run_parse([str(mail)], ref_prefix="HD-", out=out) == 0
    assert json.loads(out.getvalue())["ticket_ref_in_subject"] == "HD-7"


def test_missing_path_returns_2_and_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    assert run_parse([str(tmp_path / "nope"), str(tmp_path)], out=out) == 2
    assert out.getvalue() == ""
    assert "nope" in capsys.readouterr().err
    assert run_parse([], out=out) == 2


def test_main_parses_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.eml").write_bytes(MAIL)
    assert main(["parse", str(tmp_path), "--json", "--ref-prefix", "T-"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["subject"] == "Re: [T-42] VPN down"
    assert main(["parse", str(tmp_path)]) == 0  # without --json: one tab-separated line
    assert capsys.readouterr().out.split("\t")[1:3] == ["human", "T-42"]
    assert main(["parse"]) == 2
    assert main(["frobnicate"]) == 2
