"""`monitor customers import`: good rows go in, bad rows are named by line, and it streams."""

from __future__ import annotations

import os
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from monitor.cli import main
from monitor.core.errors import InputError
from monitor.core.models import Signal
from monitor.store import open_db
from monitor.store.customer_import import import_customers
from monitor.store.customers import count_customers, get_customer
from monitor.store.signals import save_signals

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
HEADER = "id,email,first_name,last_name,company\n"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "monitor.db")


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def _invoke(runner: CliRunner, config: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(main, ["customers", "import", *args, "--config", str(config)])


def test_a_csv_with_two_bad_rows_names_both_lines_and_imports_the_rest(
    runner: CliRunner, write_config, tmp_path: Path
) -> None:
    config = write_config()
    csv_file = _write(
        tmp_path / "customers.csv",
        HEADER
        + "1,jane@acme.example,Jane,Doe,Acme\n"
        + ",nobody@acme.example,No,Id,\n"  # line 3
        + "2,bob@initech.example,Bob,Slydell,Initech\n"
        + "3,not-an-address,Milton,Waddams,\n"  # line 5
        + "4,peter@initech.example,Peter,Gibbons,Initech\n",
    )

    result = _invoke(runner, config, str(csv_file))

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"{csv_file}:3: skipped: no id",
        f"{csv_file}:5: skipped: email 'not-an-address' is not an address",
    ]
    assert f"Imported 3 customers from {csv_file}; skipped 2 bad rows." in result.stdout
    assert count_customers(open_db(tmp_path / "monitor.db")) == 3


def test_a_csv_without_an_id_column_is_refused_with_exit_2(
    runner: CliRunner, write_config, tmp_path: Path
) -> None:
    csv_file = _write(tmp_path / "c.csv", "customer,email,first_name,last_name\n1,a@b.example,A,B\n")

    result = _invoke(runner, write_config(), str(csv_file))

    assert result.exit_code == 2
    assert "missing: id" in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_file_exits_2_with_a_sentence(runner: CliRunner, write_config, tmp_path: Path) -> None:
    result = _invoke(runner, write_config(), str(tmp_path / "nope.csv"))

    assert result.exit_code == 2
    assert result.stderr == f"Error: Cannot read {tmp_path / 'nope.csv'}: no such file.\n"


def test_a_folder_instead_of_a_file_exits_2(runner: CliRunner, write_config, tmp_path: Path) -> None:
    result = _invoke(runner, write_config(), str(tmp_path))

    assert result.exit_code == 2
    assert "is a directory" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_exits_2(runner: CliRunner, write_config, tmp_path: Path) -> None:
    csv_file = _write(tmp_path / "c.csv", HEADER + "1,a@b.example,A,B,\n")
    csv_file.chmod(0)

    result = _invoke(runner, write_config(), str(csv_file))

    assert result.exit_code == 2
    assert "Permission denied" in result.stderr


def test_an_unreadable_file_is_an_input_error(db: Database, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Cannot read"):
        import_customers(db, tmp_path / "gone.jsonl", NOW)


def test_jsonl_bad_lines_are_named_and_the_good_ones_imported(db: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "customers.jsonl",
        '{"id": "1", "email": "jane@acme.example", "first_name": "Jane", "last_name": "Doe"}\n'
        '{"id": "2", "email": "bob@acme.example"\n'
        '["3", "list@acme.example"]\n'
        "\n"
        '{"id": 5, "email": "five@acme.example", "phone": "555"}\n'
        '{"id": 6, "email": "six@acme.example", "company": "Six Inc"}\n',
    )

    result = import_customers(db, path, NOW)

    assert result.imported == 2
    reasons = {bad.line: bad.reason for bad in result.bad}
    assert set(reasons) == {2, 3, 5}
    assert reasons[2].startswith("not valid JSON")
    assert reasons[3] == "not a JSON object"
    assert reasons[5] == "unknown key(s) phone"
    six = get_customer(db, "6")  # a numeric id is kept as text
    assert six is not None and six["company"] == "Six Inc"


def test_a_line_in_another_encoding_is_named_and_skipped(db: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "customers.csv",
        HEADER.encode() + b"1,jose@acme.example,Jos\xe9,Garc\xeda,\n" + b"2,ana@acme.example,Ana,B,\n",
    )

    result = import_customers(db, path, NOW)

    assert result.imported == 1
    assert [(bad.line, bad.reason) for bad in result.bad] == [(2, "not UTF-8 text")]


def test_a_utf8_file_with_a_byte_order_mark_imports(db: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "excel.csv", b"\xef\xbb\xbf" + (HEADER + "1,jose@acme.example,Jos\u00e9,,\n").encode()
    )

    result = import_customers(db, path, NOW)

    assert (result.imported, result.bad) == (1, [])
    jose = get_customer(db, "1")
    assert jose is not None and jose["first_name"] == "Jos\u00e9"


def test_reimporting_an_id_updates_the_customer_instead_of_adding_one(db: Database, tmp_path: Path) -> None:
    import_customers(db, _write(tmp_path / "a.csv", HEADER + "1,jane@acme.example,Jane,Doe,Acme\n"), NOW)

    import_customers(
        db, _write(tmp_path / "b.csv", HEADER + "1,jane@acme.example,Janet,Doe-Smith,Acme\n"), NOW
    )

    assert count_customers(db) == 1
    jane = get_customer(db, "1")
    assert jane is not None and (jane["first_name"], jane["last_name"]) == ("Janet", "Doe-Smith")


def test_the_email_is_kept_as_given_and_matched_in_lower_case(db: Database, tmp_path: Path) -> None:
    import_customers(db, _write(tmp_path / "a.csv", HEADER + "1,  Jane.Doe@ACME.example ,Jane,Doe,\n"), NOW)

    jane = get_customer(db, "1")
    assert jane is not None
    assert (jane["email"], jane["email_norm"], jane["domain"]) == (
        "Jane.Doe@ACME.example",
        "jane.doe@acme.example",
        "acme.example",
    )


def test_signals_stored_before_an_import_are_linked_after_it(db: Database, tmp_path: Path) -> None:
    bounce = Signal(
        source="mailgun",
        key="ev-1",
        category="bounce",
        occurred_at=NOW,
        title="550 mailbox unavailable",
        group="jane@acme.example:bounce",
        email="JANE@acme.example",
    )
    save_signals(db, [bounce], now=NOW)
    assert db.execute("SELECT COUNT(*) FROM links").fetchone()[0] == 0

    result = import_customers(db, _write(tmp_path / "a.csv", HEADER + "1,jane@acme.example,Jane,Doe,\n"), NOW)

    assert result.relinked == 1
    assert db.execute("SELECT customer_id, match FROM links").fetchall() == [("1", "email")]


def test_a_200k_row_file_imports_fully_in_little_memory(db: Database, tmp_path: Path) -> None:
    rows = 200_000
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(rows):
            out.write(f"{i},user{i}@company{i % 5000}.example,First{i},Last{i},Company {i % 5000}\n")

    tracemalloc.start()
    try:
        result = import_customers(db, path, NOW)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (result.imported, result.bad_total) == (rows, 0)
    assert count_customers(db) == rows
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB: the import does not stream"


def test_config_is_taken_after_the_group_name_too(runner: CliRunner, write_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = write_config()
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("id,email\n1,jane@acme.example\n")
    result = runner.invoke(main, ["customers", "--config", str(config), "import", str(csv_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "monitor.db").exists()
