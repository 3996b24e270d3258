"""The model gate: a bounded queue per process, a share per user, Retry-After beyond them."""

from __future__ import annotations

import threading
import time

import pytest

from companion.errors import RateLimited, ServiceUnavailable
from companion.llm import FakeProvider, LLMService, PolicyBook, ProviderRegistry
from companion.llm.admission import ModelGate, acting_for, external_allowed, external_providers
from companion.llm.errors import LLMBusy, LLMError, LLMUserBusy


def test_beyond_the_running_limit_a_call_that_does_not_wait_is_refused_with_retry_after() -> None:
    gate = ModelGate(2, max_queued=0, max_per_user=5)
    gate.acquire("a")
    gate.acquire("b", wait=1)
    with pytest.raises(LLMBusy) as refused:
        gate.acquire("c", wait=1)  # no queue at all
    assert refused.value.status_code == 503
    assert isinstance(refused.value, ServiceUnavailable) and isinstance(refused.value, LLMError)
    assert refused.value.details["retry_after"] >= 1
    assert gate.snapshot()["running"] == 2
    gate.release("a", 1.0)
    gate.release("b", 1.0)
    assert gate.snapshot()["running"] == 0
    with gate.slot("c"):  # free again
        assert gate.snapshot()["running"] == 1


def test_a_user_at_their_share_gets_429_even_with_slots_free() -> None:
    gate = ModelGate(4, max_per_user=1)
    with gate.slot("alice"):
        with pytest.raises(LLMUserBusy) as refused:
            gate.acquire("alice", wait=5)
        assert refused.value.status_code == 429
        assert not isinstance(refused.value, RateLimited)  # an LLMError: chat falls back
        assert refused.value.details["retry_after"] >= 1
        gate.acquire("bob")
        assert gate.snapshot()["running"] == 2
        gate.release("bob")


def test_a_waiting_call_gets_the_slot_freed_and_the_queue_is_bounded() -> None:
    gate = ModelGate(1, max_queued=1, max_per_user=5, queue_wait_s=5)
    release = threading.Event()
    got: list[float] = []

    def hold() -> None:
        with gate.slot("a"):
            release.wait(5)

    def queued() -> None:
        with gate.slot("b", wait=5):
            got.append(time.monotonic())

    holder = threading.Thread(target=hold)
    holder.start()
    while gate.snapshot()["running"] < 1:
        time.sleep(0.01)
    waiter = threading.Thread(target=queued)
    waiter.start()
    while gate.snapshot()["waiting"] < 1:
        time.sleep(0.01)
    with pytest.raises(LLMBusy) as full:  # one running, one queued: no room for a third
        gate.acquire("c", wait=5)
    assert full.value.details["waiting"] == 1
    freed = time.monotonic()
    release.set()
    holder.join(5)
    waiter.join(5)
    assert got and got[0] >= freed
    assert gate.snapshot() | {"average_hold_s": 0} == {
        "running": 0,
        "waiting": 0,
        "max_concurrent": 1,
        "max_queued": 1,
        "max_per_user": 5,
        "average_hold_s": 0,
    }


def test_a_wait_that_runs_out_is_refused_and_forgets_the_caller() -> None:
    gate = ModelGate(1, max_queued=2, max_per_user=1)
    with gate.slot("a"):
        started = time.monotonic()
        with pytest.raises(LLMBusy):
            gate.acquire("b", wait=0.2)
        assert 0.15 < time.monotonic() - started < 2
        assert gate.snapshot()["waiting"] == 0
    with gate.slot("b"):  # b's queued place was given back
        pass


def test_slots_are_reentrant_and_acting_for_names_the_caller() -> None:
    gate = ModelGate(1, max_per_user=1)
    with acting_for(7), gate.slot():
        with gate.slot():  # a model call inside an admitted request
            assert gate.snapshot()["running"] == 1
        with pytest.raises(LLMUserBusy):
            threading_result: list[BaseException] = []

            def other_thread() -> None:  # a fresh context holds no slot, but is user 7
                try:
                    with acting_for(7), gate.slot():
                        pass
                except LLMError as exc:
                    threading_result.append(exc)

            thread = threading.Thread(target=other_thread)
            thread.start()
            thread.join(5)
            raise threading_result[0]


def _service(gate: ModelGate, fake: FakeProvider) -> LLMService:
    return LLMService(ProviderRegistry({"default": lambda: fake}), PolicyBook.load(), gate=gate)


def test_the_service_takes_a_slot_per_model_call_and_never_waits_without_one() -> None:
    fake = FakeProvider(["drafted"])
    gate = ModelGate(1, max_queued=3, queue_wait_s=5)
    llm = _service(gate, fake)
    assert llm.generate("summarize", "acme", "hello").text == "drafted"
    gate.acquire("someone")  # another request's model call
    started = time.monotonic()
    with pytest.raises(LLMBusy):
        llm.generate("summarize", "acme", "hello again")
    assert time.monotonic() - started < 0.5
    gate.release("someone")
    assert len(fake.calls) == 1  # the refused call reached no provider
    assert llm.health["default"].snapshot()["consecutive_failures"] == 0  # and is no fault


def test_admitted_holds_one_slot_for_the_request_and_its_model_calls() -> None:
    fake = FakeProvider(["drafted"])
    gate = ModelGate(1, max_queued=0)
    llm = _service(gate, fake)
    with llm.admitted("summarize", "acme", caller=1):
        assert llm.generate("summarize", "acme", "hello").text == "drafted"
        assert gate.snapshot()["running"] == 1
    assert gate.snapshot()["running"] == 0
    off = LLMService(ProviderRegistry({}), PolicyBook.load(), gate=gate)  # provider none
    gate.acquire("busy")
    with off.admitted("summarize", "acme", caller=2):
        pass  # no model would be called: no slot is needed
    with pytest.raises(LLMBusy), llm.admitted("summarize", "acme", caller=2):
        pass
    gate.release("busy")


def test_external_providers_asks_a_callable_once_and_only_when_a_provider_needs_it() -> None:
    asked: list[bool] = []

    def allowed() -> bool:
        asked.append(True)
        return False

    with external_providers(allowed):
        assert asked == []  # nothing asked until a provider marked external comes up
        assert not external_allowed() and not external_allowed()
    assert asked == [True]
    assert external_allowed()  # outside the block: the default
