"""Safe edits of a company's model policy, written to its own policy file (<slug>.yml).

"Safe" means a company can only narrow what the deployment allows: switch a use case off
(and on again, if the deployment has it on), lower its token limit and choose a temperature.
The provider, the model, fallbacks and timeouts stay the deployment's. The file is
validated as the loader would read it, written atomically, and the running book updated;
other server processes read it when they start.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from companion.errors import Conflict, ValidationFailed
from companion.llm.policies import USE_CASES, PolicyBook, load_text


@dataclass(frozen=True)
class PolicyEdit:
    """What a company sets for one use case."""

    use_case: str
    enabled: bool
    max_tokens: int
    temperature: float


def _company_file(directory: Path, company: str) -> Path:
    if not company.replace("-", "").replace("_", "").isalnum():
        raise ValidationFailed("not a company slug", details={"company": company[:64]})
    return directory / f"{company}.yml"


def edit_company_policy(
    book: PolicyBook, directory: Path | None, company: str, edit: PolicyEdit
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply ``edit`` for ``company``: the use case's values before and after."""
    if directory is None:
        raise Conflict(
            "Company policies are kept in files: set COMPANION_LLM__COMPANY_POLICIES_DIR",
            details={"setting": "COMPANION_LLM__COMPANY_POLICIES_DIR"},
        )
    if edit.use_case not in USE_CASES:
        raise ValidationFailed(
            f"unknown use case {edit.use_case!r}", details={"use_cases": list(USE_CASES)}
        )
    deployment = book.policy(edit.use_case)
    if edit.enabled and not deployment.enabled:
        raise ValidationFailed(
            f"{edit.use_case} is off for the whole deployment; a company cannot switch it on",
            details={"field": "enabled"},
        )
    if not 1 <= edit.max_tokens <= deployment.max_tokens:
        raise ValidationFailed(
            f"max tokens must be between 1 and the deployment's {deployment.max_tokens}",
            details={"field": "max_tokens", "max": deployment.max_tokens},
        )
    if not 0.0 <= edit.temperature <= 2.0:
        raise ValidationFailed(
            "temperature must be between 0 and 2", details={"field": "temperature"}
        )
    before = book.policy(edit.use_case, company).model_dump(mode="json")
    overlay = book.company_file_values(company)
    values = overlay.setdefault("use_cases", {}).setdefault(edit.use_case, {})
    values.update(enabled=edit.enabled, max_tokens=edit.max_tokens, temperature=edit.temperature)
    path = _company_file(directory, company)
    text = "# Written by the command center (Models page); edit by hand with care.\n"
    text += yaml.safe_dump(overlay, sort_keys=True, allow_unicode=True)
    checked = load_text(text, str(path), known_providers=book.known_providers(), company=True)
    _write_atomically(path, text)
    book.replace_company_file(company, checked)
    return before, book.policy(edit.use_case, company).model_dump(mode="json")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
