"""Models behind small ports: sentence embeddings, and chat models with providers and policies.

``LLMService`` is the entry point: ``generate``, ``generate_structured`` and ``stream`` per
use case, with policy, cache, health and fallback. Providers: ``llamacpp`` (in-process
GGUF), ``openai_compat`` (any OpenAI-compatible server), ``none`` and ``fake`` (tests).
Importing this package loads no model and needs no optional dependency.
"""

from companion.llm.cache import ResponseCache
from companion.llm.errors import (
    LLMBadResponse,
    LLMError,
    LLMInvalidOutput,
    LLMModelNotFound,
    LLMPromptTooLong,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
    ModelFileMissing,
    PolicyFileInvalid,
)
from companion.llm.health import Breaker, HealthBoard, Status
from companion.llm.policies import USE_CASES, PolicyBook, UseCasePolicy
from companion.llm.providers.base import Generation, LLMProvider, Message, ProbeResult
from companion.llm.providers.fake import FakeProvider
from companion.llm.providers.none import NoneProvider
from companion.llm.service import LLMService, ProviderRegistry, Structured

__all__ = [
    "USE_CASES",
    "Breaker",
    "FakeProvider",
    "Generation",
    "HealthBoard",
    "LLMBadResponse",
    "LLMError",
    "LLMInvalidOutput",
    "LLMModelNotFound",
    "LLMPromptTooLong",
    "LLMProvider",
    "LLMRateLimited",
    "LLMService",
    "LLMTimeout",
    "LLMUnavailable",
    "Message",
    "ModelFileMissing",
    "NoneProvider",
    "PolicyBook",
    "PolicyFileInvalid",
    "ProbeResult",
    "ProviderRegistry",
    "ResponseCache",
    "Status",
    "Structured",
    "UseCasePolicy",
]
