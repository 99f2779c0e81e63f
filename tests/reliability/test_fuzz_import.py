"""The customer import, fuzzed: whatever bytes a CSV or JSON Lines file holds, the import answers
with counts (the good rows imported, every bad row counted with its line and reason) or, for
a CSV whose header is unusable, one sentence and exit 2. Never a traceback."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from monitor.cli import main
from monitor.core.errors import InputError
from monitor.core.models import Customer
from monitor.store import open_db
from monitor.store.customer_import import BadRow, ImportResult, import_customers, parse_csv, parse_jsonl

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
HEADER = "id,email,first_name,last_name,company"

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELD = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["", " ", "48213", "jane@acme.example", " JANE@Acme.example ", "<script>", '"', ",", "\r\n"]
    ),
)
ROW = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(FIELD, JSON_VALUES),
        "email": st.one_of(FIELD, st.emails(), JSON_VALUES),
        "first_name": st.one_of(FIELD, JSON_VALUES),
        "last_name": FIELD,
        "company": st.one_of(FIELD, JSON_VALUES),
    },
)
# A line of a JSON Lines file: a customer-like object (with unknown keys now and then), any
# JSON value, or text that is not JSON at all.
JSONL_LINE = st.one_of(
    ROW.map(json.dumps),
    st.tuples(ROW, st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=2)).map(
        lambda pair: json.dumps({**pair[1], **pair[0]})
    ),
    JSON_VALUES.map(json.dumps),
    st.text(max_size=40),
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = open_db(tmp_path_factory.mktemp("import") / "monitor.db")
    yield database
    database.close()


def _check(result: ImportResult, data_lines: int) -> None:
    assert result.imported >= 0 and result.bad_total >= 0
    assert result.imported + result.bad_total <= data_lines
    assert len(result.bad) <= result.bad_total
    for bad in result.bad:
        assert isinstance(bad, BadRow) and bad.line >= 1 and bad.reason


def _lines(data: bytes) -> int:
    return len(data.splitlines()) or 1


@FUZZ
@given(lines=st.lists(JSONL_LINE, max_size=12))
@example(lines=['{"id": "1", "email": "a@b.example"}', "[]", "null", '{"id": true}', "\ud800"])
def test_every_json_line_is_imported_or_counted_as_a_bad_row(lines: list[str]) -> None:
    items = list(parse_jsonl(line + "\n" for line in lines))
    assert len(items) == sum(1 for line in lines if line.strip())
    for item in items:
        assert isinstance(item, Customer | BadRow)


@FUZZ
@given(rows=st.lists(st.lists(st.one_of(FIELD, st.text(max_size=8)), max_size=7), max_size=10))
def test_every_csv_row_is_imported_or_counted_as_a_bad_row(rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER.split(","), *rows])
    items = list(parse_csv(io.StringIO(buffer.getvalue(), newline="")))
    assert len(items) == sum(1 for row in rows if "".join(row).strip())
    for item in items:
        assert isinstance(item, Customer | BadRow)


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".jsonl", ".txt"]))
@example(data=b"id,email\n1,a@b.example\n\xff\xfe,x\n", suffix=".csv")
@example(data=b'id,email\n"1,a@b.example\n', suffix=".csv")
@example(data=b"\xef\xbb\xbf" + b'{"id": 1, "email": "a@b.example"}\n\x00\n', suffix=".jsonl")
def test_any_bytes_import_as_counts_or_one_input_error(
    db: Database, tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("file") / f"customers{suffix}"
    path.write_bytes(data)
    try:
        result = import_customers(db, path, NOW)
    except InputError as err:
        assert str(err).endswith(".") and "\n" not in str(err)
        return
    _check(result, _lines(data))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=300), st.lists(JSONL_LINE, max_size=6).map(lambda x: "\n".join(x).encode())
    )
)
def test_the_import_command_answers_any_file_with_exit_0_or_2_and_no_traceback(
    write_config: object, tmp_path: Path, data: bytes
) -> None:
    config = write_config()  # type: ignore[operator]
    path = tmp_path / "customers.jsonl"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["--config", str(config), "customers", "import", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output
    if result.exit_code == 0:
        assert "Imported " in result.stdout and "skipped " in result.stdout
