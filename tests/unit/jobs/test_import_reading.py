"""Reading import files: encodings, headers, line numbers, and formula-safe export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from companion.jobs.imports.reading import (
    CSV,
    XLSX,
    ImportUnreadable,
    decode_csv,
    file_format,
    header_key,
    neutralise,
    read_rows,
    to_csv,
)


def test_headers_are_normalised_to_field_names() -> None:
    assert header_key(" Payment Terms (days) ") == "payment_terms_days"
    assert header_key("E-mail") == "e_mail" and header_key(None) == ""


def test_utf8_with_a_bom_and_utf16_are_read_and_latin1_is_refused_by_name() -> None:
    assert decode_csv("\ufeffname\nCafé\n".encode()) == "name\nCafé\n"
    assert decode_csv("name\nCafé\n".encode("utf-16")) == "name\nCafé\n"
    with pytest.raises(ImportUnreadable, match="not UTF-8") as caught:
        decode_csv("name\nCafé\n".encode("latin-1"))
    assert caught.value.details == {"byte_offset": 8}
    assert caught.value.status_code == 422


def test_rows_keep_their_file_line_numbers_and_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b'Name,Note\nOne,"two\nlines"\n,\n\nThree,x\n')
    headers, rows = read_rows(path, CSV)
    assert headers == ["name", "note"]
    assert [(r.line, r.values) for r in rows] == [
        (3, {"name": "One", "note": "two\nlines"}),
        (6, {"name": "Three", "note": "x"}),
    ]


def test_semicolon_csv_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"name;code\nOne;C-1\n")
    headers, rows = read_rows(path, CSV)
    assert headers == ["name", "code"] and next(rows).values == {"name": "One", "code": "C-1"}


def test_the_format_comes_from_the_content_then_the_name() -> None:
    assert file_format("x.csv", b"PK\x03\x04...") == XLSX
    assert file_format("x.txt", b"a,b\n") == CSV
    with pytest.raises(ImportUnreadable, match="not an Excel workbook"):
        file_format("x.xlsx", b"a,b\n")
    with pytest.raises(ImportUnreadable, match=r"\.xls"):
        file_format("x.xls", b"\xd0\xcf")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1-2", "'+1-2"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Padma Traders", "Padma Traders"),
        (None, ""),
        (12, "12"),
    ],
)
def test_formula_cells_are_quoted_on_export(cell: object, safe: str) -> None:
    assert neutralise(cell) == safe


def test_an_exported_csv_has_no_cell_a_spreadsheet_would_run() -> None:
    text = to_csv(["line", "value"], [[2, '=HYPERLINK("http://x")'], [3, "ok"]])
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert cells == ["line", "value", "2", '\'=HYPERLINK("http://x")', "3", "ok"]
