"""``companion pii redact``: stdin lines out redacted, --json spans, bad input refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from companion.cli.main import app

runner = CliRunner()


def test_redacts_each_line_and_keeps_the_rest() -> None:
    stdin = (
        "mail rahim@tangail.com about INV-2026-0001\n"
        "no personal data: BDT 1,25,000.00 on 2026-12-06\n"
        "\n"
        "call 01711-123456 or rahim@tangail.com"
    )
    result = runner.invoke(app, ["pii", "redact"], input=stdin)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "mail <EMAIL_1> about INV-2026-0001\n"
        "no personal data: BDT 1,25,000.00 on 2026-12-06\n"
        "\n"
        "call <PHONE_1> or <EMAIL_1>"
    )


def test_json_prints_the_spans() -> None:
    result = runner.invoke(app, ["pii", "redact", "--json"], input="a@b.com, 01711-123456\nnone\n")
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {
        "text": "<EMAIL_1>, <PHONE_1>",
        "spans": [
            {"type": "EMAIL", "start": 0, "end": 7, "placeholder": "<EMAIL_1>", "value": "a@b.com"},
            {
                "type": "PHONE",
                "start": 9,
                "end": 21,
                "placeholder": "<PHONE_1>",
                "value": "01711-123456",
            },
        ],
    }
    assert second == {"text": "none", "spans": []}


def test_types_limits_what_is_found() -> None:
    result = runner.invoke(
        app, ["pii", "redact", "--types", "phone"], input="a@b.com 01711-123456\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "a@b.com <PHONE_1>\n"


def test_unknown_type_is_a_clear_error_before_reading() -> None:
    result = runner.invoke(app, ["pii", "redact", "--types", "EMAIL,PASSPORT"], input="a@b.com\n")
    assert result.exit_code == 1
    assert "unknown PII type(s): PASSPORT" in result.stderr
    assert result.stdout == ""
    empty = runner.invoke(app, ["pii", "redact", "--types", " , "], input="a@b.com\n")
    assert empty.exit_code == 1
    assert "names no type" in empty.stderr


def test_empty_input_writes_nothing() -> None:
    result = runner.invoke(app, ["pii", "redact"], input="")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_a_real_process_with_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    companion = Path(sys.executable).with_name("companion")
    data = b"card 4111 1111 1111 1111 \xff\xfe end\r\nip 10.1.2.3\n" + b"x a@b.com\n" * 20000
    done = subprocess.run(
        [str(companion), "pii", "redact"],
        input=data,
        capture_output=True,
        timeout=120,
        env={**os.environ, "COMPANION_DEMO_MODE": "true"},
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode("utf-8").splitlines(keepends=True)
    assert lines[0] == "card <CARD_1> \ufffd\ufffd end\r\n"
    assert lines[1] == "ip <IP_1>\n"
    assert len(lines) == 20002 and lines[-1] == "x <EMAIL_1>\n"
