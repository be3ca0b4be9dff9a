"""Event log export, one event a line: JSON lines, or CSV safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import msgspec

from latchkey.models import Event

FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
COLUMNS = (
    "id",
    "createdAt",
    "kind",
    "outcome",
    "reason",
    "userId",
    "credentialId",
    "ip",
    "userAgent",
    "detail",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class EventRecord(msgspec.Struct, rename="camel", kw_only=True):
    """An event as the management API shows and exports it."""

    id: str
    created_at: datetime
    kind: str
    outcome: str
    reason: str | None
    user_id: str | None
    credential_id: str | None
    ip: str | None
    user_agent: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> EventRecord:
        return msgspec.convert(event, cls, from_attributes=True)


_ENCODER = msgspec.json.Encoder()


def jsonl(found: Iterable[Event]) -> Iterator[bytes]:
    for event in found:
        yield _ENCODER.encode(EventRecord.of(event)) + b"\n"


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return "'" + text if text.startswith(_FORMULA) else text


def csv_lines(found: Iterable[Event]) -> Iterator[str]:
    """A header, then a row an event (detail as JSON), each cell defused against formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[Any]) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(COLUMNS)
    for event in found:
        row = msgspec.to_builtins(EventRecord.of(event))
        yield line(csv_cell(row[column]) for column in COLUMNS)


def render(found: Iterable[Event], fmt: str) -> Iterator[bytes]:
    if fmt == "jsonl":
        return jsonl(found)
    return (text.encode() for text in csv_lines(found))
