"""Prints each delivery with its audience, as text for people or JSON lines for scripts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.messages import DeliveryResult, Outbound, Reply

if TYPE_CHECKING:
    from bot.gateway import Gateway

PLATFORM = "console"


class ConsoleAdapter:
    """Outbound goes to stdout. A customer's conversation is `console:<name>:`."""

    platform = PLATFORM
    agent_facing = True

    def __init__(
        self,
        out: TextIO | None = None,
        *,
        json_mode: bool = False,
        files_dir: str | Path = "var/reports",
    ) -> None:
        self.out = out or sys.stdout
        self.json_mode = json_mode
        self.files_dir = Path(files_dir)  # where attachments (report charts, CSV) are written
        self.gateway: Gateway | None = None
        self._sent = 0

    async def start(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def stop(self) -> None:
        self.out.flush()

    async def send(self, message: Outbound) -> DeliveryResult:
        if message.audience == "customer":
            to = message.conversation.channel if message.conversation else "?"
        else:
            to = message.recipient or "agents"
        text = message.text
        if message.kind == "reply":
            text = f"{message.payload.get('agent_name', 'agent')}: {text}"
        self.emit(to, message.audience, message.ticket, message.kind, text)
        self._sent += 1
        # A card keeps its id so later edits are recognisably the same message.
        external = message.previous_external_id or f"console-{message.id}"
        return DeliveryResult(external_id=external)

    def reply(self, person: str, audience: str, reply: Reply) -> None:
        text = reply.text
        for path in self.save_files(reply):
            text += f"\n📎 {path}"
        self.emit(person, audience, reply.ticket, "result" if reply.ok else "error", text)

    def save_files(self, reply: Reply) -> list[Path]:
        """A terminal cannot show attachments: write them to files and name the paths."""
        paths = []
        for f in reply.files:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / Path(f.filename).name
            path.write_bytes(f.data)
            paths.append(path)
        return paths

    def emit(self, to: str, audience: str, ticket: str | None, kind: str, text: str) -> None:
        if self.json_mode:
            record: dict[str, Any] = {
                "to": to,
                "audience": audience,
                "ticket": ticket,
                "kind": kind,
                "text": text,
            }
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            where = f" · {ticket}" if ticket else ""
            lock = " 🔒" if audience == "agents" else ""
            self.out.write(f"[→ {to}{lock} · {kind}{where}] {text}\n")
        self.out.flush()
