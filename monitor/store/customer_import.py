"""Reading the customer directory: CSV with a header row, or JSON Lines. Streams row by row.

Parsing is pure (lines in, customers and bad rows out); `import_customers` does the I/O."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlite_utils import Database

from monitor.core.errors import InputError
from monitor.core.models import Customer
from monitor.core.timeutil import to_db
from monitor.store import write_tx
from monitor.store.customers import customer_row, upsert_imported
from monitor.store.signals import relink_all

COLUMNS = ("id", "email", "first_name", "last_name", "company")
REQUIRED = ("id", "email")
BATCH = 10_000
MAX_REPORTED = 1_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass
class ImportResult:
    imported: int = 0
    bad: list[BadRow] = field(default_factory=list)
    bad_total: int = 0
    relinked: int = 0


def _text(values: dict[str, Any], name: str) -> str | None:
    """A name or company as text; None when it is not text (a JSON list or object)."""
    value = values.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _checked(
    raw_id: str, raw_email: str, first: str, last: str, company: str, line: int
) -> Customer | BadRow:
    """The rules every row meets, whatever file it came from: an id, and an email address."""
    customer_id = raw_id.strip()
    if not customer_id:
        return BadRow(line, "no id")
    email = raw_email.strip()
    if not _EMAIL.match(email):
        return BadRow(line, f"email {raw_email!r} is not an address")
    return Customer(customer_id, email, first, last, company)


def _customer(values: dict[str, Any], line: int) -> Customer | BadRow:
    """A JSON object as a Customer, or the reason it is not one: its values may be of any type."""
    raw_id = values.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int | None):
        return BadRow(line, f"id {raw_id!r} is not text or a whole number")
    email = values.get("email")
    if not isinstance(email, str):
        return BadRow(line, f"email {email!r} is not an address")
    first, last, company = (_text(values, name) for name in ("first_name", "last_name", "company"))
    checked = _checked(
        "" if raw_id is None else str(raw_id), email, first or "", last or "", company or "", line
    )
    not_text = [n for n, v in (("first_name", first), ("last_name", last), ("company", company)) if v is None]
    if isinstance(checked, Customer) and not_text:
        return BadRow(line, f"{not_text[0]} must be text")
    return checked


def _csv_customer(row: list[str], at: dict[str, int], line: int) -> Customer | BadRow:
    """A CSV row, whose fields are always text, as a Customer. Run once per row of the file, so
    written out field by field (a generator over the names costs several percent of the import)."""
    first = row[at["first_name"]].strip() if "first_name" in at else ""
    last = row[at["last_name"]].strip() if "last_name" in at else ""
    company = row[at["company"]].strip() if "company" in at else ""
    return _checked(row[at["id"]], row[at["email"]], first, last, company, line)


def _bad_encoding(text: str) -> bool:
    """True when the text holds bytes that were not UTF-8 (kept as lone surrogates by the
    `surrogateescape` decoding). Checked in C: a per-character loop would dominate the import."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_csv(lines: Iterable[str]) -> Iterator[Customer | BadRow]:
    reader = csv.reader(lines)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InputError(
            "The CSV header must name the columns id,email,first_name,last_name "
            f"(missing: {', '.join(missing)})."
        )
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise InputError(
            f"The CSV header has unknown column(s) {', '.join(unknown)}; known: {', '.join(COLUMNS)}."
        )
    width = len(header)
    at = {name: header.index(name) for name in COLUMNS if name in header}
    try:
        for row in reader:
            line = reader.line_num
            joined = "".join(row)
            if not joined.strip():
                continue  # a blank line
            if _bad_encoding(joined):
                yield BadRow(line, "not UTF-8 text")
            elif len(row) != width:
                yield BadRow(line, f"expected {width} fields, got {len(row)}")
            else:
                yield _csv_customer(row, at, line)
    except csv.Error as err:
        yield BadRow(reader.line_num, f"broken CSV ({err}); the rest of the file was not read")


def parse_jsonl(lines: Iterable[str]) -> Iterator[Customer | BadRow]:
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        if _bad_encoding(text):
            yield BadRow(number, "not UTF-8 text")
            continue
        try:
            values = json.loads(text)
        except ValueError as err:
            yield BadRow(number, f"not valid JSON ({err.args[0].split(':')[0]})")
            continue
        if not isinstance(values, dict):
            yield BadRow(number, "not a JSON object")
            continue
        unknown = [key for key in values if key not in COLUMNS]
        yield BadRow(number, f"unknown key(s) {', '.join(unknown)}") if unknown else _customer(values, number)


def detect_format(path: Path, first_line: str) -> str:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return "jsonl"
    if path.suffix.lower() == ".csv":
        return "csv"
    return "jsonl" if first_line.lstrip().startswith("{") else "csv"


class _CountingReader(io.RawIOBase):
    """Counts bytes read, so a progress bar can follow a streamed file."""

    def __init__(self, raw: IO[bytes], on_bytes: Callable[[int], None] | None) -> None:
        self.raw, self.on_bytes = raw, on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if self.on_bytes and count:
            self.on_bytes(count)
        return int(count or 0)


def import_customers(
    db: Database,
    path: Path,
    now: datetime,
    *,
    extra_public_domains: Iterable[str] = (),
    on_bytes: Callable[[int], None] | None = None,
) -> ImportResult:
    """Upsert the good rows in batches, collect the bad ones, then re-link signals."""
    try:
        raw = path.open("rb")
    except OSError as err:
        raise InputError(f"Cannot read {path}: {err.strerror}.") from None
    result = ImportResult()
    with raw:
        first = raw.readline()
        raw.seek(0)
        buffered = io.BufferedReader(_CountingReader(raw, on_bytes))
        text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="surrogateescape", newline="")
        kind = detect_format(path, first.decode("utf-8", "replace"))
        rows = parse_jsonl(text) if kind == "jsonl" else parse_csv(text)
        batch: list[tuple[str | None, ...]] = []
        stamp = to_db(now)
        for item in rows:
            if isinstance(item, BadRow):
                result.bad_total += 1
                if len(result.bad) < MAX_REPORTED:
                    result.bad.append(item)
                continue
            batch.append(customer_row(item, stamp))
            if len(batch) >= BATCH:
                result.imported += _flush(db, batch)
        result.imported += _flush(db, batch)
    result.relinked = relink_all(db, extra_public_domains)
    return result


def _flush(db: Database, batch: list[tuple[str | None, ...]]) -> int:
    if not batch:
        return 0
    with write_tx(db) as conn:
        upsert_imported(conn, batch)
    count = len(batch)
    batch.clear()
    return count
