"""Errors of the language-model layer; callers catch ``LLMError`` and fall back.

ServiceUnavailable (503)
└── LLMError                       any failure to get a usable generation
    ├── LLMUnavailable             provider "none", circuit open, or not reachable
    │   └── ModelFileMissing       the GGUF named by COMPANION_LLM__MODEL_PATH is absent
    ├── LLMTimeout                 the call ran past its timeout
    ├── LLMRateLimited             every API key is cooling down after a 429
    ├── LLMBusy                    every model slot of this process is taken (admission)
    │   └── LLMUserBusy (429)      the caller already has their share of model slots
    ├── LLMModelNotFound           the server does not serve the configured model
    ├── LLMBadResponse             the server answered with an error or a broken body
    └── LLMInvalidOutput           structured output that is not valid for the schema
CompanionError (500)
└── PolicyFileInvalid              a policy YAML file is malformed (names file and line)
"""

from __future__ import annotations

from typing import Any

from companion.errors import CompanionError, ServiceUnavailable


class LLMError(ServiceUnavailable):
    """A language model could not give a usable answer; the caller falls back."""

    code = "llm_error"


class LLMUnavailable(LLMError):
    code = "llm_unavailable"


class ModelFileMissing(LLMUnavailable):
    code = "llm_model_missing"


class LLMTimeout(LLMError):
    code = "llm_timeout"


class LLMRateLimited(LLMError):
    code = "llm_rate_limited"


class LLMBusy(LLMError):
    """No model slot is free (``llm.admission``); ``details.retry_after`` says when to retry."""

    code = "llm_busy"


class LLMUserBusy(LLMBusy):
    """The caller already holds their share of model slots."""

    status_code = 429
    code = "llm_user_busy"


class LLMModelNotFound(LLMError):
    code = "llm_model_not_found"


class LLMBadResponse(LLMError):
    code = "llm_bad_response"


class LLMPromptTooLong(LLMError):
    code = "llm_prompt_too_long"


class LLMInvalidOutput(LLMError):
    """The model's structured output does not parse or does not match the schema."""

    code = "llm_invalid_output"

    def __init__(self, message: str, *, raw: str, details: dict[str, Any] | None = None):
        super().__init__(message, details={"raw": raw[:500], **(details or {})})
        self.raw = raw


class PolicyFileInvalid(CompanionError):
    """A policy file is malformed; the message names the file and the line at fault."""

    code = "llm_policy_invalid"

    def __init__(self, message: str, *, path: str, line: int | None) -> None:
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {message}", details={"path": path, "line": line})
        self.path = path
        self.line = line
