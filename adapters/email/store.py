"""Attachment content on disk, named by content hash, so a mail's files outlive the mail."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from adapters.email.model import Attachment
from bot.messages import AttachmentInfo

log = logging.getLogger(__name__)


class AttachmentStore:
    """Writes each distinct content once (sha256 name) under `root`; `None` root stores nothing.

    Files larger than `max_bytes` are listed on the message but not kept (url None). Writing is
    synchronous and small; a failure to write is logged and the attachment is still listed.
    """

    def __init__(self, root: Path | None, max_bytes: int = 10_000_000) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def save(self, attachment: Attachment) -> AttachmentInfo:
        url = None
        if len(attachment.content) <= self.max_bytes:
            url = self.put(attachment.content)
        return AttachmentInfo(
            filename=attachment.filename or "(unnamed)",
            content_type=attachment.content_type,
            size=attachment.size,
            url=url,
            md5=attachment.md5,
        )

    def save_raw(self, raw: bytes) -> AttachmentInfo:
        """The whole original mail, kept as `original.eml` (for mail that cannot be read)."""
        return AttachmentInfo(
            filename="original.eml",
            content_type="message/rfc822",
            size=len(raw),
            url=self.put(raw),  # never capped: it is all there is of that mail
            md5=hashlib.md5(raw, usedforsecurity=False).hexdigest(),
        )

    def put(self, content: bytes) -> str | None:
        """Store `content`; its file:// URL, or None when no folder is configured or on error."""
        if self.root is None:
            return None
        digest = hashlib.sha256(content).hexdigest()
        path = self.root / digest[:2] / digest
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                # Write then rename: a crash never leaves a half file under the final name.
                fd, tmp = tempfile.mkstemp(dir=path.parent)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(content)
                os.replace(tmp, path)
        except OSError:
            log.exception("could not store an attachment under %s", self.root)
            return None
        return path.resolve().as_uri()
