"""The composition root: settings -> adapters -> services; everything starts here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from companion.auth.passwords import PasswordHasher
from companion.config import Settings, get_settings
from companion.kit.clock import Clock, SystemClock
from companion.kit.db import make_engine, make_session_factory
from companion.llm.embeddings import DEFAULT_EMBEDDER, EmbedderCache
from companion.llm.providers.llamacpp import LlamaModels

if TYPE_CHECKING:
    from companion.assistant.learning.company_models import CompanyModels
    from companion.assistant.service import Assistant
    from companion.assistant.usage import UsageMeter
    from companion.governance.usage.ratelimit import RateLimiter
    from companion.jobs.runner import JobRunner
    from companion.knowledge.retrieval import Retriever
    from companion.llm.embeddings import Embedder
    from companion.llm.service import LLMService


@dataclass
class Container:
    """Everything a process needs, built once.

    It owns the process's loaded models: the embedders (``embedders``: one per name, shared
    by the NLU, the knowledge index and memories), the NLU with the companies' models, the
    language models (``llm``, their in-process GGUF files in ``llama_models``), the job
    runner; ``dispose`` lets them go. It also holds the password hasher, built from
    ``settings.auth``, that sign-in and user creation are given. Tests pass their own
    ``embedders`` (or ``llama_models``) to share one load between containers.
    """

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    password_hasher: PasswordHasher = field(repr=False)
    embedders: EmbedderCache = field(default_factory=EmbedderCache, repr=False)
    llama_models: LlamaModels = field(default_factory=LlamaModels, repr=False)
    _assistant: Assistant | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _retriever: Retriever | None = field(default=None, repr=False)
    # Its own lock: building the assistant may ask for the retriever.
    _retriever_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _llm: LLMService | None = field(default=None, repr=False)
    _llm_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _job_runner: JobRunner | None = field(default=None, repr=False)
    _job_runner_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _usage: UsageMeter | None = field(default=None, repr=False)
    _rate_limiter: RateLimiter | None = field(default=None, repr=False)
    _usage_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _company_models: CompanyModels | None = field(default=None, repr=False)
    _company_models_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def assistant(self) -> Assistant:
        """The chat core, built on first use (loading the language model takes a moment)."""
        with self._lock:
            if self._assistant is None:
                self._assistant = build_assistant(self)
            return self._assistant

    def company_models(self) -> CompanyModels:
        """The shipped NLU and each company's retrained one (trained or loaded on first use)."""
        with self._company_models_lock:
            if self._company_models is None:
                self._company_models = build_company_models(self)
            return self._company_models

    def llm(self) -> LLMService:
        """Language models by policy; a missing model file fails here, naming the setting."""
        with self._llm_lock:
            if self._llm is None:
                from companion.governance.pii.scrubber import PiiScrubber
                from companion.llm.factory import build_llm_service

                # Providers marked external get prompts with personal data as placeholders.
                self._llm = build_llm_service(
                    self.settings.llm, scrubber=PiiScrubber(), llama_models=self.llama_models
                )
                self._llm.meter = self.usage_meter()  # budgets and usage records
            return self._llm

    def rate_limiter(self) -> RateLimiter:
        """Sign-in and chat rate limits (memory, or Redis when configured)."""
        with self._usage_lock:
            if self._rate_limiter is None:
                from companion.governance.usage.ratelimit import RateLimiter

                self._rate_limiter = RateLimiter(self.settings.rate_limits)
            return self._rate_limiter

    def usage_meter(self) -> UsageMeter:
        """Budgets and metering of chat turns and model calls (counters: DB or Redis)."""
        limiter = self.rate_limiter()
        with self._usage_lock:
            if self._usage is None:
                self._usage = build_usage_meter(self, limiter)
            return self._usage

    def job_runner(self, factory: Callable[[Container], JobRunner] | None = None) -> JobRunner:
        """The background-job runner, made on first use (by ``factory``, else the default)."""
        with self._job_runner_lock:
            if self._job_runner is None:
                from companion.jobs.runner import build_job_runner

                self._job_runner = (factory or build_job_runner)(self)
            return self._job_runner

    def replace_job_runner(self, runner: JobRunner | None) -> JobRunner | None:
        """Use ``runner`` from now on (None: none until the next ``job_runner()``); the old one."""
        with self._job_runner_lock:
            previous, self._job_runner = self._job_runner, runner
        return previous

    def dispose(self) -> None:
        """Stop what the container started (the job runner finishes its running jobs) and
        let go of the models it loaded."""
        previous = self.replace_job_runner(None)
        if previous is not None:
            previous.shutdown(wait=True)
        with self._lock, self._retriever_lock, self._company_models_lock:
            self._assistant = self._retriever = self._company_models = None
        with self._llm_lock:
            llm, self._llm = self._llm, None
        if llm is not None:
            llm.close()
        self.llama_models.clear()
        self.embedders.clear()

    def embedder(self, name: str | None = None) -> Embedder:
        """The embedder called ``name`` (default: the knowledge one), loaded once."""
        return self.embedders.get(name or self.settings.rag.embedder)

    def memory_embedder(self) -> Embedder:
        """The embedder memories are compared with (the knowledge one, loaded once)."""
        return self.embedder()

    def built_llm(self) -> LLMService | None:
        """The language-model service if something has built it already (purge, status)."""
        with self._llm_lock:
            return self._llm

    def retriever(self) -> Retriever:
        """The knowledge retriever, built on first use (rebuilt from the DB if no index exists)."""
        with self._retriever_lock:
            if self._retriever is None:
                self._retriever = build_retriever(self)
            return self._retriever


def build_retriever(container: Container) -> Retriever:
    """Embedder + the configured index (local under data_dir/kb, or Qdrant) + ranking settings."""
    from collections.abc import Iterator

    from companion.knowledge.index import open_index
    from companion.knowledge.retrieval import ChunkDoc, Retriever, vectors_by

    rag = container.settings.rag
    embedder = container.embedder(rag.embedder)
    index = open_index(
        rag,
        container.settings.data_dir / "kb",
        dim=embedder.dim,
        embedder=vectors_by(embedder, rag),
    )

    def chunks_from_db() -> Iterator[ChunkDoc]:
        from companion.knowledge.repository import iter_chunk_docs

        with container.session_factory() as session:
            yield from iter_chunk_docs(session)

    retriever = Retriever.configured(index, embedder, rag, source=chunks_from_db)
    retriever.ensure_built()
    return retriever


def build_company_models(container: Container) -> CompanyModels:
    """The shipped NLU (its model cached under the data dir) and the companies' models."""
    from companion.assistant.evaluation import load_eval_set
    from companion.assistant.learning.company_models import CompanyModels, TrainParams
    from companion.assistant.nlu import NLU, EvalExample

    settings = container.settings
    return CompanyModels(
        NLU.load(
            cache_dir=settings.data_dir / "nlu", embedder=container.embedder(DEFAULT_EMBEDDER)
        ),
        settings.data_dir / "nlu",
        heldout=lambda: [EvalExample(e.text, e.intent) for e in load_eval_set()],
        params=TrainParams(
            weight=settings.learning.correction_weight,
            max_iter=settings.learning.retrain_max_iter,
        ),
        today=container.clock.today,
    )


def build_usage_meter(container: Container, limiter: RateLimiter | None) -> UsageMeter:
    """Governance's budgets and usage records behind the assistant's meter."""
    from companion.assistant.usage import UsageMeter
    from companion.governance.usage.budgets import Budgets
    from companion.governance.usage.counter_repository import SqlCounters
    from companion.governance.usage.counters import CounterStore, FallbackCounters, RedisCounters
    from companion.governance.usage.service import Metering

    usage = container.settings.usage
    in_database = SqlCounters(container.session_factory)
    # Redis unreachable: the database counts meanwhile (docs/operations.md, faults).
    store: CounterStore = (
        FallbackCounters(RedisCounters.from_url(usage.redis_url), in_database)
        if usage.counters == "redis"
        else in_database
    )
    metering = Metering(usage, Budgets(usage, store), container.session_factory)
    return UsageMeter(metering, container.clock, limiter)


def build_assistant(container: Container) -> Assistant:
    """The assistant with the shipped NLU, its trained model cached under the data dir."""
    from companion.assistant.service import Assistant
    from companion.assistant.understanding import CompanyNLU

    settings = container.settings
    models = container.company_models()
    return Assistant(
        CompanyNLU(models.base, models=models),
        container.clock,
        max_message_chars=settings.assistant.max_message_chars,
        actions=settings.actions,
        retriever=container.retriever,
        llm=container.llm,
        tool_choice_below=settings.assistant.tool_choice_below,
        usage=container.usage_meter(),
        # Memories are compared by the knowledge embedder, without building the index.
        memory_embedder=container.memory_embedder,
    )


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
    embedders: EmbedderCache | None = None,
    llama_models: LlamaModels | None = None,
    password_hasher: PasswordHasher | None = None,
) -> Container:
    """Build the container; tests pass their own engine, session factory, clock, models or
    password hasher (else the one ``settings.auth`` describes)."""
    settings = settings or get_settings()
    # Telemetry events (kit.telemetry.emit, from any layer) are stored, redacted, per company.
    from companion.assistant.learning.telemetry import install as store_telemetry

    store_telemetry()
    if engine is None:
        if settings.database_url.startswith("sqlite:///./") or settings.database_url.startswith(
            "sqlite:///var"
        ):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(
            settings.database_url,
            echo=settings.database_echo,
            busy_timeout_s=settings.database_busy_timeout_s,
        )
    return Container(
        settings=settings,
        engine=engine,
        session_factory=session_factory or make_session_factory(engine),
        clock=clock or SystemClock(settings.today),
        embedders=embedders or EmbedderCache(),
        llama_models=llama_models or LlamaModels(),
        password_hasher=password_hasher or PasswordHasher.from_settings(settings.auth),
    )
