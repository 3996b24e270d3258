"""Reading an import file: CSV (UTF-8) or XLSX rows with their line numbers, and safe export.

Rows are read lazily (a 100k-row file is never held whole); headers are normalised
(``Payment Terms Days`` -> ``payment_terms_days``). A file that cannot be read is one clear
``ImportUnreadable`` error, never a half-read import.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from companion.errors import ValidationFailed

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
_ZIP = b"PK\x03\x04"
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): written
# out with a leading apostrophe so it shows as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HEADER_JUNK = re.compile(r"[^a-z0-9]+")


class ImportUnreadable(ValidationFailed):
    """The file is not a CSV or XLSX this import can read (encoding, shape, columns)."""

    code = "import_unreadable"


def file_format(filename: str | None, data: bytes) -> str:
    """``csv`` or ``xlsx`` from the content (a zip is XLSX), else by the file name."""
    if data.startswith(_ZIP):
        return XLSX
    name = (filename or "").lower()
    if name.endswith((".xlsx", ".xlsm")):
        raise ImportUnreadable(
            "The file is named .xlsx but is not an Excel workbook", details={"filename": filename}
        )
    if name.endswith((".xls",)):
        raise ImportUnreadable(
            "Old Excel (.xls) files are not supported: save it as .xlsx or CSV UTF-8",
            details={"filename": filename},
        )
    return CSV


def header_key(text: Any) -> str:
    """A column heading as a field name: lower case, words joined by underscores."""
    return _HEADER_JUNK.sub("_", str(text or "").strip().lower()).strip("_")


@dataclass(frozen=True)
class Row:
    """One data row: its line in the file (the header is line 1) and its cells by column."""

    line: int
    values: dict[str, str]


def decode_csv(data: bytes) -> str:
    """The CSV's text: UTF-8 (with or without a BOM) or UTF-16 with a BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _not_utf8(exc) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc) from exc


def _not_utf8(exc: UnicodeDecodeError) -> ImportUnreadable:
    return ImportUnreadable(
        "The file is not UTF-8 text: save it as 'CSV UTF-8' (or as .xlsx) and upload it again",
        details={"byte_offset": exc.start},
    )


def read_rows(path: Path, fmt: str) -> tuple[list[str], Iterator[Row]]:
    """The normalised headers and the data rows of a stored import file."""
    if fmt == XLSX:
        return _xlsx_rows(path)
    text = decode_csv(path.read_bytes())
    return _csv_rows(text)


def _csv_rows(text: str) -> tuple[list[str], Iterator[Row]]:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportUnreadable("The file is empty: it has no header row") from None
    except csv.Error as exc:
        raise ImportUnreadable(f"The CSV cannot be read: {exc}") from exc
    headers = [header_key(h) for h in header]

    def rows() -> Iterator[Row]:
        try:
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                yield Row(reader.line_num, _cells(headers, cells))
        except csv.Error as exc:
            raise ImportUnreadable(
                f"The CSV cannot be read past line {reader.line_num}: {exc}",
                details={"line": reader.line_num},
            ) from exc

    return headers, rows()


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    from openpyxl import load_workbook

    try:
        # A file object: openpyxl judges a path by its extension, and ours have none.
        book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise ImportUnreadable(
            "The workbook is damaged or not an .xlsx file", details={"reason": type(exc).__name__}
        ) from exc
    sheet = book.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    header = next(cells, None)
    if header is None:
        book.close()
        raise ImportUnreadable("The workbook's first sheet is empty: it has no header row")
    headers = [header_key(h) for h in header]

    def rows() -> Iterator[Row]:
        try:
            for line, values in enumerate(cells, start=2):
                texts = ["" if v is None else _text(v) for v in values]
                if any(t.strip() for t in texts):
                    yield Row(line, _cells(headers, texts))
        finally:
            book.close()

    return headers, rows()


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cells(headers: Sequence[str], cells: Sequence[str]) -> dict[str, str]:
    return {h: c.strip() for h, c in zip(headers, cells, strict=False) if h}


def neutralise(value: Any) -> str:
    """A cell as safe text for a spreadsheet: a leading formula character is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A CSV with every cell neutralised (an error report opened in Excel runs nothing)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue()
