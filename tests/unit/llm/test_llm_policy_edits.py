"""A company's safe edits of its model policy, written to its own file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from companion.errors import Conflict, ValidationFailed
from companion.llm import PolicyBook
from companion.llm.policy_edits import PolicyEdit, edit_company_policy


def test_an_edit_is_written_read_back_and_only_for_that_company(tmp_path: Path) -> None:
    book = PolicyBook.load()
    shipped = book.policy("summarize")
    before, after = edit_company_policy(
        book, tmp_path, "acme", PolicyEdit("summarize", False, 32, 0.0)
    )
    assert before["enabled"] is shipped.enabled and after["enabled"] is False
    assert after["max_tokens"] == 32 and after["provider"] == shipped.provider
    written = yaml.safe_load((tmp_path / "acme.yml").read_text())
    assert written == {
        "use_cases": {"summarize": {"enabled": False, "max_tokens": 32, "temperature": 0.0}}
    }
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, then renamed
    # A new process reads the same file; another company is untouched.
    reread = PolicyBook.load(company_dir=tmp_path)
    assert reread.policy("summarize", "acme").enabled is False
    assert reread.policy("summarize", "globex") == shipped
    # A second edit keeps what the first set for other use cases.
    edit_company_policy(book, tmp_path, "acme", PolicyEdit("draft_email", True, 16, 0.3))
    both = yaml.safe_load((tmp_path / "acme.yml").read_text())["use_cases"]
    assert set(both) == {"summarize", "draft_email"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (PolicyEdit("tool_choice", True, 16, 0.2), "off for the whole deployment"),
        (PolicyEdit("summarize", True, 10**6, 0.2), "max tokens"),
        (PolicyEdit("summarize", True, 0, 0.2), "max tokens"),
        (PolicyEdit("summarize", True, 16, 2.5), "temperature"),
        (PolicyEdit("mind_reading", True, 16, 0.2), "unknown use case"),
    ],
)
def test_a_company_cannot_widen_what_the_deployment_allows(
    tmp_path: Path, edit: PolicyEdit, message: str
) -> None:
    book = PolicyBook.load()
    with pytest.raises(ValidationFailed, match=message):
        edit_company_policy(book, tmp_path, "acme", edit)
    assert not (tmp_path / "acme.yml").exists()


def test_no_folder_and_bad_slugs_are_refused(tmp_path: Path) -> None:
    book = PolicyBook.load()
    with pytest.raises(Conflict, match="COMPANY_POLICIES_DIR"):
        edit_company_policy(book, None, "acme", PolicyEdit("summarize", True, 16, 0.2))
    with pytest.raises(ValidationFailed, match="slug"):
        edit_company_policy(book, tmp_path, "../etc", PolicyEdit("summarize", True, 16, 0.2))
