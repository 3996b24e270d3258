"""``GET /metrics``: Prometheus text format from a registry of this app's own.

Per app (``CollectorRegistry`` on ``app.state``), never the process-global one, so tests
that build many apps never clash. Three sources:

- this app's requests (``MetricsMiddleware``: count and latency per route template),
- the events of the requests it serves (``kit.telemetry.observing``): chat turns per skill,
  the NLU's confidence, suggestions, feedback, actions proposed/confirmed/cancelled;
- read at scrape time: the process's tallies (model calls and failures per provider, cache
  hits, job runs) and the database's figures (confirmations by status, feedback ratio,
  training examples by status).

Open to loopback clients, or to anyone with ``Authorization: Bearer <metrics token>``
(``COMPANION_LEARNING__METRICS_TOKEN``); otherwise 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Iterator
from typing import Any

import fastapi.routing
from fastapi import APIRouter, Request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from companion.assistant.learning import repository as learning_repo
from companion.bootstrap import Container
from companion.errors import PermissionDenied
from companion.kit import telemetry
from companion.web.deps import ContainerDep

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
_COUNTED_EVENTS = frozenset(telemetry.KINDS) - {telemetry.CHAT_TURN}

router = APIRouter(include_in_schema=False)


class AppMetrics:
    """The instruments of one app, in a registry of its own."""

    def __init__(self, container: Container) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "companion_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "companion_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.turns = Histogram(
            "companion_chat_turn_duration_seconds",
            "Chat turn latency by the skill that answered",
            ["skill"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.confidence = Histogram(
            "companion_nlu_confidence",
            "The NLU's confidence in the intent of each chat turn",
            buckets=CONFIDENCE_BUCKETS,
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "companion_chat_fallbacks",
            "Chat turns answered by a fallback (out of scope, or a model chose the tool)",
            registry=self.registry,
        )
        self.events = Counter(
            "companion_events",
            "Telemetry events of requests served by this app (actions, feedback, suggestions)",
            ["kind"],
            registry=self.registry,
        )
        self.registry.register(StoredFigures(container))
        self._paths: dict[int, str] | None = None

    def template(self, app: Any, route: Any) -> str:
        """The full path template of the route that answered ("unmatched" for none)."""
        if route is None:
            return "unmatched"
        if self._paths is None:
            self._paths = _route_paths(app)
        return self._paths.get(id(route)) or str(getattr(route, "path", "unmatched"))

    def observe(self, event: telemetry.Event) -> None:
        """An event of a request this app is serving."""
        if event.kind == telemetry.CHAT_TURN:
            skill = str(event.data.get("skill") or "unknown")
            if event.duration_ms is not None:
                self.turns.labels(skill).observe(event.duration_ms / 1000)
            confidence = event.data.get("confidence")
            if isinstance(confidence, int | float):
                self.confidence.observe(float(confidence))
            if event.data.get("fallback"):
                self.fallbacks.inc()
        elif event.kind in _COUNTED_EVENTS:
            self.events.labels(event.kind).inc()


def _route_paths(app: Any) -> dict[int, str]:
    """Each route object's full path: included routers keep their own, unprefixed."""
    iter_route_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: Any = iter_route_contexts(app.routes) if iter_route_contexts else app.routes
    paths: dict[int, str] = {}
    for route in routes:
        original = getattr(route, "original_route", route)
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        if isinstance(path, str):
            paths[id(original)] = path
    return paths


class StoredFigures(Collector):
    """Figures read at scrape time: the process's tallies and the database's counts."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def describe(self) -> list[Metric]:
        return []  # nothing registered up front: names come and go with the data

    def collect(self) -> Iterator[Metric]:
        yield from _tallied()
        try:
            yield from self._stored()
        except SQLAlchemyError:  # a scrape still answers with the database down; logged
            log.exception("metrics.database_figures_failed")

    def _stored(self) -> Iterator[Metric]:
        with self._container.session_factory() as session:
            actions = learning_repo.actions_by_status(session)
            feedback = learning_repo.feedback_counts(session)
            examples = learning_repo.examples_by_status(session)
        confirmations = GaugeMetricFamily(
            "companion_confirmations",
            "Action confirmations ever requested, by what became of them (requested = all)",
            labels=["status"],
        )
        confirmations.add_metric(["requested"], sum(actions.values()))
        for status, count in sorted(actions.items()):
            confirmations.add_metric([status], count)
        yield confirmations
        thumbs = GaugeMetricFamily(
            "companion_feedback", "Thumbs given on answers", labels=["rating"]
        )
        for rating in ("up", "down"):
            thumbs.add_metric([rating], feedback[rating])
        yield thumbs
        rated = feedback["up"] + feedback["down"]
        yield GaugeMetricFamily(
            "companion_feedback_positive_ratio",
            "Share of thumbs that are up (0 when none were given)",
            value=feedback["up"] / rated if rated else 0.0,
        )
        pending = GaugeMetricFamily(
            "companion_training_examples", "Training examples by review status", labels=["status"]
        )
        for status, count in sorted(examples.items()):
            pending.add_metric([status], count)
        yield pending


_TALLIES: dict[str, tuple[str, str]] = {
    "model_calls": ("companion_model_calls", "Model calls by provider and outcome (ok, error)"),
    "cache": ("companion_cache_requests", "Cache look-ups by cache and result (hit, miss)"),
    "job_runs": ("companion_job_runs", "Background job runs by kind and final status"),
    "events": ("companion_telemetry_events", "Telemetry events emitted in this process"),
}


def _tallied() -> Iterator[Metric]:
    by_name: dict[str, list[tuple[tuple[tuple[str, str], ...], float]]] = {}
    for (name, labels), value in telemetry.tallies().items():
        by_name.setdefault(name, []).append((labels, value))
    for name, (metric, help_text) in _TALLIES.items():
        rows = by_name.get(name, [])
        keys = sorted({k for labels, _ in rows for k, _ in labels})
        family = CounterMetricFamily(metric, help_text, labels=keys)
        for labels, value in sorted(rows):
            given = dict(labels)
            family.add_metric([given.get(k, "") for k in keys], value)
        yield family


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template; lets the app see events."""

    def __init__(self, app: ASGIApp, metrics: AppMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            with telemetry.observing(self.metrics.observe):
                await self.app(scope, receive, sending)
        finally:
            route = self.metrics.template(scope.get("app"), scope.get("route"))
            method = str(scope.get("method", "GET"))
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)


def metrics_of(request: Request) -> AppMetrics:
    metrics: AppMetrics = request.app.state.metrics
    return metrics


def allowed(request: Request, token: str | None, *, open_on_loopback: bool) -> bool:
    """Loopback clients (when open) or the metrics bearer token."""
    if token:
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    if not open_on_loopback or request.client is None:
        return False
    host = request.client.host
    if host == "testclient":  # starlette's in-process client is this machine
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics")
def metrics(request: Request, container: ContainerDep) -> Response:
    """Prometheus text format (loopback, or a bearer token when one is configured)."""
    settings = container.settings.learning
    if not allowed(request, settings.metrics_token, open_on_loopback=settings.metrics_on_loopback):
        raise PermissionDenied(
            "Metrics are open to this machine, or with the metrics token",
            details={"setting": "COMPANION_LEARNING__METRICS_TOKEN"},
        )
    return Response(generate_latest(metrics_of(request).registry), media_type=CONTENT_TYPE)
