"""Parsers on real files made here: a PDF written by fpdf2, a DOCX by python-docx, HTML, text."""

from __future__ import annotations

import io

import docx
import pytest
from fpdf import FPDF

from companion.errors import PayloadTooLarge, UnsupportedMediaType
from companion.knowledge.parsers import (
    DOCX,
    HTML,
    MARKDOWN,
    PDF,
    TEXT,
    EmptyDocument,
    UnreadableDocument,
    detect_kind,
    parse,
)


def make_pdf(pages: list[tuple[str, list[str]]]) -> bytes:
    """A real PDF: each page a bold heading and paragraphs of body text."""
    pdf = FPDF()
    pdf.set_title("Fleet handbook")
    for heading, paragraphs in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    return bytes(pdf.output())


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Fleet handbook", level=1)
    document.add_paragraph("Company vans are for business use only.")
    document.add_heading("Fuel cards", level=2)
    document.add_paragraph("Each van has one fuel card with a monthly limit.")
    document.add_paragraph("Keep every fuel receipt for the audit.", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    cells = [("Van", "Limit"), ("Small", "$300"), ("Large", "$450")]
    for row, (a, b) in zip(table.rows, cells, strict=True):
        row.cells[0].text, row.cells[1].text = a, b
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_real_pdf_gives_its_text_and_headings() -> None:
    data = make_pdf(
        [
            (
                "Vehicle Use",
                [
                    "Company vans may be used for deliveries and customer visits. "
                    "Private trips need the fleet manager's written approval.",
                ],
            ),
            ("Fuel Cards", ["Each van has one fuel card with a monthly limit of $300."]),
        ]
    )
    parsed = parse(data, filename="fleet.pdf")
    assert parsed.kind == PDF and parsed.pages == 2
    assert parsed.title == "Fleet handbook"
    assert "## Vehicle Use" in parsed.text and "## Fuel Cards" in parsed.text
    assert "Private trips need the fleet manager's written approval." in parsed.text
    assert "monthly limit of $300" in parsed.text


def test_a_corrupt_pdf_is_a_clear_422() -> None:
    data = make_pdf([("Title", ["Some text."])])
    with pytest.raises(UnreadableDocument) as err:
        parse(data[:200] + b"garbage" * 50, filename="broken.pdf")
    assert err.value.status_code == 422 and err.value.code == "unreadable_document"
    with pytest.raises(UnreadableDocument):
        parse(b"not a pdf at all", filename="fake.pdf")


def test_a_pdf_over_the_page_limit_is_too_large() -> None:
    data = make_pdf([(f"Page {n}", ["Text."]) for n in range(4)])
    with pytest.raises(PayloadTooLarge) as err:
        parse(data, filename="long.pdf", max_pages=3)
    assert err.value.details["pages"] == 4


def test_a_pdf_without_text_is_empty() -> None:
    pdf = FPDF()
    pdf.add_page()
    with pytest.raises(EmptyDocument):
        parse(bytes(pdf.output()), filename="scan.pdf")


def test_a_real_docx_keeps_headings_lists_and_tables() -> None:
    parsed = parse(make_docx(), filename="fleet.docx")
    assert parsed.kind == DOCX and parsed.title == "Fleet handbook"
    lines = parsed.text.splitlines()
    assert "# Fleet handbook" in lines and "## Fuel Cards".lower() in parsed.text.lower()
    assert "- Keep every fuel receipt for the audit." in lines
    assert "Small — Limit: $300." in lines and "Large — Limit: $450." in lines


def test_a_broken_docx_is_unreadable() -> None:
    with pytest.raises(UnreadableDocument):
        parse(b"PK\x03\x04word/" + b"\x00" * 100, filename="broken.docx")


def test_html_loses_scripts_styles_and_keeps_structure() -> None:
    html = b"""<html><head><title>Leave rules</title><style>p{color:red}</style></head>
    <body><script>alert('steal')</script><h1>Leave rules</h1>
    <p>Staff get <b>20 days</b> of annual leave.</p>
    <h2>Sick leave</h2><ul><li>Up to 10 days a year.</li><li>A note after 2 days.</li></ul>
    <table><tr><th>Years</th><th>Days</th></tr><tr><td>5+</td><td>25</td></tr></table>
    <iframe src="https://evil.example"></iframe></body></html>"""
    parsed = parse(html, filename="leave.html")
    assert parsed.kind == HTML and parsed.title == "Leave rules"
    assert "alert" not in parsed.text and "color" not in parsed.text
    assert parsed.meta["removed_elements"] == 3  # script, style, iframe
    assert "Staff get 20 days of annual leave." in parsed.text
    assert "## Sick leave" in parsed.text and "- Up to 10 days a year." in parsed.text
    assert "5+ | 25" in parsed.text


def test_markdown_front_matter_tables_and_markup() -> None:
    text = (
        "---\ntitle: Hotel limits\ntype: faq\ntags: [travel]\n---\n"
        "# Hotels\n\nStay **within** the [cap](http://x).\n\n"
        "| City | Staff |\n|---|---|\n| Dhaka | BDT 6,000 |\n\n"
        "<script>evil()</script>\n"
    )
    parsed = parse(text.encode(), filename="hotels.md")
    assert parsed.kind == MARKDOWN and parsed.title == "Hotel limits"
    assert parsed.meta == {"title": "Hotel limits", "type": "faq", "tags": ["travel"]}
    assert "Stay within the cap." in parsed.text
    assert "Dhaka — Staff: BDT 6,000." in parsed.text
    assert "evil" not in parsed.text


def test_plain_text_headings_and_paragraphs() -> None:
    text = (
        "STAFF HANDBOOK\n\n1.    WORKING HOURS\n\n1.1   Staff work from 9 am\n"
        "      to 6 pm on weekdays.\n\n  3\n2.    LUNCH BREAK\n\nOne hour between 12 and 2.\n"
    )
    parsed = parse(text.encode(), filename="handbook.txt")
    assert parsed.kind == TEXT
    lines = parsed.text.splitlines()
    assert "## 1. WORKING HOURS" in lines and "## 2. LUNCH BREAK" in lines
    assert "1.1 Staff work from 9 am to 6 pm on weekdays." in lines
    assert "3" not in lines  # page numbers are dropped


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "kind"),
    [
        ("a.MD", None, b"# x", MARKDOWN),
        ("noext", "text/html; charset=utf-8", b"<p>x</p>", HTML),
        ("noext", None, b"%PDF-1.7 ...", PDF),
        (None, "text/plain", b"x", TEXT),
    ],
)
def test_the_kind_is_found_by_extension_type_or_bytes(
    filename: str | None, content_type: str | None, data: bytes, kind: str
) -> None:
    assert detect_kind(filename, content_type, data) == kind


def test_unsupported_empty_and_binary_files_are_refused() -> None:
    with pytest.raises(UnsupportedMediaType) as err:
        parse(b"\x89PNG\r\n", filename="logo.png", content_type="image/png")
    assert err.value.status_code == 415 and ".pdf" in err.value.details["supported"]
    with pytest.raises(EmptyDocument):
        parse(b"  \n ", filename="empty.md")
    with pytest.raises(UnreadableDocument):
        parse(b"text\x00with nul", filename="odd.txt")
    with pytest.raises(UnreadableDocument):
        parse("caf\u00e9".encode("latin-1"), filename="latin.txt")


def test_xhtml_and_tiny_html_parse_without_warnings() -> None:
    xhtml = (
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">'
        b"<body><p>Hi there.</p></body></html>"
    )
    assert parse(xhtml, content_type="application/xhtml+xml").text == "Hi there.\n"
    assert parse(b"index.html", filename="a.html").text == "index.html\n"
