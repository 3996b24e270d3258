"""Provider health (rolling figures, circuit breaker) and the response cache."""

from __future__ import annotations

from companion.llm import Breaker, Generation, ResponseCache, Status
from companion.llm.cache import cache_key
from companion.llm.health import HealthBoard, ProviderHealth
from companion.llm.policies import HealthPolicy


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(threshold: int = 3, cooldown: float = 30.0) -> tuple[ProviderHealth, FakeClock]:
    clock = FakeClock()
    policy = HealthPolicy(window=10, failure_threshold=threshold, cooldown_s=cooldown)
    return ProviderHealth("p", policy, clock=clock), clock


def test_breaker_opens_after_consecutive_failures() -> None:
    health, _ = make(threshold=3)
    health.record_failure(5, "boom")
    health.record_failure(5, "boom")
    assert health.breaker is Breaker.CLOSED and health.allow()
    health.record_failure(5, "boom")
    assert health.breaker is Breaker.OPEN
    assert not health.allow()
    assert health.status() is Status.UNHEALTHY
    assert health.snapshot()["last_error"] == "boom"


def test_a_success_resets_the_failure_run() -> None:
    health, _ = make(threshold=2)
    health.record_failure(5, "x")
    health.record_success(5)
    health.record_failure(5, "x")
    assert health.breaker is Breaker.CLOSED


def test_breaker_half_opens_after_cooldown_and_a_trial_success_closes_it() -> None:
    health, clock = make(threshold=1, cooldown=30)
    health.record_failure(5, "x")
    clock.now += 29
    assert not health.allow()
    clock.now += 2
    assert health.breaker is Breaker.HALF_OPEN
    assert health.allow()  # the one trial call
    assert not health.allow()  # no second caller while the trial runs
    health.record_success(12)
    assert health.breaker is Breaker.CLOSED
    assert health.allow()


def test_failed_trial_reopens_the_breaker_for_another_cooldown() -> None:
    health, clock = make(threshold=1, cooldown=10)
    health.record_failure(5, "x")
    clock.now += 11
    assert health.allow()
    health.record_failure(5, "still down")
    assert health.breaker is Breaker.OPEN
    clock.now += 5
    assert not health.allow()
    clock.now += 6
    assert health.allow()


def test_status_degrades_on_error_rate_and_on_slowness() -> None:
    health, _ = make(threshold=5)
    for _ in range(4):
        health.record_success(10, budget_ms=100)
    assert health.status() is Status.HEALTHY
    health.record_failure(10, "x")  # 1 of 5 = 0.2, the degraded threshold
    assert health.status() is Status.DEGRADED
    slow, _ = make()
    for _ in range(3):
        slow.record_success(500, budget_ms=100)
    assert slow.status() is Status.DEGRADED
    snap = slow.snapshot()
    assert snap["latency_ms_p50"] == 500 and snap["error_rate"] == 0


def test_board_keeps_one_record_per_provider() -> None:
    board = HealthBoard(HealthPolicy())
    board["a"].record_failure(1, "x")
    assert board["a"] is board["a"]
    assert [s["provider"] for s in board.snapshot()] == ["a"]
    assert board.snapshot()[0]["calls"] == 1


def gen(text: str = "hi") -> Generation:
    return Generation(text, 1, 1, 5.0, "m", "p")


def test_cache_serves_within_ttl_marked_cached_then_expires() -> None:
    clock = FakeClock()
    cache = ResponseCache(clock=clock)
    cache.put("k", gen(), ttl_s=60)
    hit = cache.get("k")
    assert hit is not None and hit.cached and hit.text == "hi"
    clock.now += 61
    assert cache.get("k") is None
    cache.put("k", gen(), ttl_s=0)
    assert cache.get("k") is None


def test_cache_key_separates_companies_data_and_use_cases() -> None:
    messages = [{"role": "user", "content": "what is the travel policy?"}]

    def key(company: str = "acme", use_case: str = "knowledge_answer", data: str = "v1") -> str:
        return cache_key(
            company=company, use_case=use_case, messages=messages, data_fingerprint=data
        )

    assert key() == key()
    assert key() != key(company="globex")
    assert key() != key(data="v2")
    assert key() != key(use_case="summarize")


def test_cache_evicts_least_recently_used() -> None:
    cache = ResponseCache(max_entries=2)
    cache.put("a", gen("a"), 60)
    cache.put("b", gen("b"), 60)
    assert cache.get("a") is not None
    cache.put("c", gen("c"), 60)
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
