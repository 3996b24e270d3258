"""In-process GGUF models through ``llama-cpp-python``: loaded once per path and container
(``LlamaModels``), one call at a time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.llm.errors import LLMBadResponse, LLMError, LLMTimeout, ModelFileMissing
from companion.llm.locate import INSTALL_HINT, MODEL_PATH_SETTING
from companion.llm.providers.base import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    Generation,
    LLMProvider,
    Message,
    ModelRequestsBlocked,
    ProbeResult,
    Prompt,
    as_messages,
    elapsed_ms,
    ensure_model_requests_allowed,
)

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    from llama_cpp.llama_grammar import LlamaGrammar

log = logging.getLogger(__name__)

# How long a call waits for the model when another call holds it, without its own timeout.
DEFAULT_WAIT_S = 120.0


@dataclass
class LoadedModel:
    """A loaded model and the lock that serialises its use (a llama.cpp context is not
    thread-safe)."""

    llama: Llama
    lock: threading.Lock
    path: Path


class LlamaModels:
    """The GGUF models loaded in this process, one per file and context settings.

    The composition root (``bootstrap.Container``) owns one and hands it to the llama
    providers it builds, so providers of one container share a load; ``clear`` (on the
    container's ``dispose``) lets every model go.
    """

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, int, int | None], LoadedModel] = {}
        self._loading = threading.Lock()

    def load(self, path: Path, *, n_ctx: int, n_threads: int | None) -> LoadedModel:
        """The model at ``path``, loaded on first use and shared by every provider after."""
        key = (str(Path(path).resolve()), n_ctx, n_threads)
        with self._loading:
            loaded = self._loaded.get(key)
            if loaded is not None:
                return loaded
            loaded = load_model(Path(path), n_ctx=n_ctx, n_threads=n_threads)
            self._loaded[key] = loaded
            return loaded

    def unload(self, loaded: LoadedModel) -> None:
        """Drop ``loaded`` from the cache (a reload makes a new one)."""
        with self._loading:
            for key, value in list(self._loaded.items()):
                if value is loaded:
                    del self._loaded[key]

    def paths(self) -> list[Path]:
        """The model files loaded now."""
        with self._loading:
            return [m.path for m in self._loaded.values()]

    def clear(self) -> None:
        """Let go of every model: its memory is freed once no provider holds it."""
        with self._loading:
            self._loaded.clear()


def load_model(path: Path, *, n_ctx: int, n_threads: int | None) -> LoadedModel:
    """Load the GGUF file at ``path`` (every call loads; ``LlamaModels`` shares the loads)."""
    if not path.is_file():
        raise ModelFileMissing(
            f"The model file {path} does not exist; fix {MODEL_PATH_SETTING}",
            details={"setting": MODEL_PATH_SETTING, "path": str(path)},
        )
    try:
        from llama_cpp import Llama
    except ImportError as exc:  # the optional `llm` extra is missing
        raise ModelFileMissing(
            "llama-cpp-python is not installed; install the `llm` extra "
            f"(pip install 'companion[llm]') and {INSTALL_HINT}",
            details={"setting": MODEL_PATH_SETTING, "path": str(path)},
        ) from exc
    started = time.perf_counter()
    try:
        llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    except ValueError as exc:  # llama.cpp refuses a file that is not a usable GGUF
        raise ModelFileMissing(
            f"The model file {path} could not be loaded ({exc}); fix {MODEL_PATH_SETTING}",
            details={"setting": MODEL_PATH_SETTING, "path": str(path)},
        ) from exc
    log.info("llm.model_loaded", extra={"path": str(path), "ms": elapsed_ms(started)})
    return LoadedModel(llama=llama, lock=threading.Lock(), path=path)


def grammar_schema(schema: Any) -> Any:
    """``schema`` without string length limits, for building the decoding grammar.

    llama.cpp spells ``maxLength: n`` out as n optional characters, nested n deep: a limit
    in the thousands crashed the sampler. ``max_tokens`` bounds the output anyway, and the
    result is validated against the full schema afterwards.
    """
    if isinstance(schema, dict):
        return {k: grammar_schema(v) for k, v in schema.items() if k != "maxLength"}
    if isinstance(schema, list):
        return [grammar_schema(v) for v in schema]
    return schema


@lru_cache(maxsize=64)
def _grammar(schema_json: str) -> LlamaGrammar:
    """The GBNF grammar for a JSON schema, built once per schema."""
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


class LlamaCppProvider(LLMProvider):
    """A GGUF file run in this process, its chat template taken from the file; the model
    comes from (and is shared through) ``models``, the container's cache."""

    kind = "llamacpp"

    def __init__(
        self,
        model_path: Path,
        *,
        models: LlamaModels,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        name: str = "llamacpp",
    ) -> None:
        self.kind = name
        self._models = models
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._loaded = models.load(model_path, n_ctx=n_ctx, n_threads=n_threads)
        self._llama = self._loaded.llama
        self._model_name = Path(model_path).stem
        self._formatter: Jinja2ChatFormatter | None = None

    @property
    def model(self) -> str:
        return self._model_name

    @property
    def context_size(self) -> int:
        return int(self._llama.n_ctx())

    def with_model(self, model: str) -> LlamaCppProvider:
        """Another GGUF file (a policy's ``model`` is a path here), same context settings."""
        return LlamaCppProvider(
            Path(model),
            models=self._models,
            n_ctx=self._n_ctx,
            n_threads=self._n_threads,
            name=self.kind,
        )

    @property
    def busy(self) -> bool:
        """Whether a call holds the model right now."""
        return self._loaded.lock.locked()

    def close(self) -> None:
        """Forget the model in the container's cache: its memory is freed once nothing holds
        it (this provider included), and the next provider for the file loads it again."""
        self._models.unload(self._loaded)

    @contextlib.contextmanager
    def _hold(self, timeout: float | None) -> Iterator[None]:
        if not self._loaded.lock.acquire(
            timeout=timeout if timeout is not None else DEFAULT_WAIT_S
        ):
            raise LLMTimeout(
                "The local model stayed busy with another request",
                details={"provider": self.kind, "model": self.model},
            )
        try:
            yield
        finally:
            self._loaded.lock.release()

    def _pieces(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] | None,
        grammar: LlamaGrammar | None,
        deadline: float | None,
        cancel: threading.Event | None,
    ) -> Iterator[str]:
        """Text pieces as the model produces them; the caller holds the lock."""
        ensure_model_requests_allowed(self.kind)
        chunks = self._llama.create_chat_completion(
            messages=messages,  # type: ignore[arg-type]
            max_tokens=max_tokens,
            temperature=temperature,
            stop=list(stop or []),
            grammar=grammar,
            stream=True,
        )
        assert isinstance(chunks, Iterator)
        try:
            for chunk in self._checked(chunks):
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield str(piece)
                if cancel is not None and cancel.is_set():
                    return
                if deadline is not None and time.monotonic() > deadline:
                    raise LLMTimeout(
                        "The local model ran past its timeout",
                        details={"provider": self.kind, "model": self.model},
                    )
        finally:
            # Closing the library's generator ends generation at this token.
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def _checked(self, chunks: Iterator[Any]) -> Iterator[Any]:
        """The library's chunks, its refusals (a prompt over the context, a failed decode)
        turned into ``LLMBadResponse``; they surface on the first step, not the call."""
        try:
            yield from chunks
        except (ValueError, RuntimeError) as exc:
            raise LLMBadResponse(
                f"The local model refused the request: {exc}",
                details={"provider": self.kind, "model": self.model},
            ) from exc

    def _complete(
        self,
        prompt: Prompt,
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] | None,
        grammar: LlamaGrammar | None,
        timeout: float | None,
    ) -> Generation:
        started = time.perf_counter()
        deadline = time.monotonic() + timeout if timeout is not None else None
        messages = as_messages(prompt)
        with self._hold(timeout):
            pieces = list(
                self._pieces(
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=stop,
                    grammar=grammar,
                    deadline=deadline,
                    cancel=None,
                )
            )
        return Generation(
            text="".join(pieces),
            tokens_in=self.count_message_tokens(messages),
            # One streamed piece per sampled token (multi-byte characters may merge two).
            tokens_out=len(pieces),
            latency_ms=elapsed_ms(started),
            model=self.model,
            provider=self.kind,
        )

    def generate(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Generation:
        return self._complete(
            prompt,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=stop,
            grammar=None,
            timeout=timeout,
        )

    def generate_json(
        self,
        messages: Prompt,
        json_schema: dict[str, Any],
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> Generation:
        # The grammar makes even a weak model emit JSON of the schema's shape; the caller
        # still validates it, since a length cut-off can leave it unfinished.
        return self._complete(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=None,
            grammar=_grammar(json.dumps(grammar_schema(json_schema), sort_keys=True)),
            timeout=timeout,
        )

    async def stream(
        self,
        prompt: Prompt,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        cancel = threading.Event()
        deadline = time.monotonic() + timeout if timeout is not None else None
        messages = as_messages(prompt)

        def put(item: str | BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the consumer's loop has closed
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            try:
                with self._hold(timeout):
                    for piece in self._pieces(
                        messages,
                        max_tokens=max_tokens,
                        temperature=temperature,
                        stop=stop,
                        grammar=None,
                        deadline=deadline,
                        cancel=cancel,
                    ):
                        if cancel.is_set():
                            break
                        put(piece)
            except (LLMError, ModelRequestsBlocked) as exc:
                put(exc)
            except Exception as exc:  # thread boundary: hand the failure to the consumer
                log.exception("llm.stream_failed")
                put(LLMBadResponse(f"The local model failed: {exc}", details={}))
            finally:
                put(None)

        worker = threading.Thread(target=work, name="llamacpp-stream", daemon=True)
        worker.start()
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # A closed or cancelled iterator stops the worker at its next token.
            cancel.set()

    def _chat_template(self) -> Jinja2ChatFormatter | None:
        if self._formatter is None:
            template = self._llama.metadata.get("tokenizer.chat_template")
            if not template:
                return None
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            def text_of(token: int) -> str:
                if token < 0:
                    return ""
                return self._llama.detokenize([token], special=True).decode("utf-8", "replace")

            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=text_of(self._llama.token_eos()),
                bos_token=text_of(self._llama.token_bos()),
            )
        return self._formatter

    def count_message_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of the prompt exactly as the GGUF's chat template renders it."""
        formatter = self._chat_template()
        if formatter is None:
            return super().count_message_tokens(messages)
        prompt = formatter(messages=list(messages)).prompt  # type: ignore[arg-type]
        return len(self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def count_tokens(self, text: str) -> int:
        # Tokenising reads only the vocabulary, not the context, so it needs no lock.
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def health(self) -> ProbeResult:
        started = time.perf_counter()
        try:
            # One token after a one-word raw prompt: proves the model decodes, costs ~2 tokens.
            with self._hold(10.0):
                self._llama.create_completion("ping", max_tokens=1, temperature=0.0)
        except LLMError as exc:
            return ProbeResult(
                provider=self.kind,
                model=self.model,
                ok=False,
                latency_ms=elapsed_ms(started),
                detail=exc.message,
            )
        return ProbeResult(
            provider=self.kind, model=self.model, ok=True, latency_ms=elapsed_ms(started)
        )
