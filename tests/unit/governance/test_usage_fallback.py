"""The fallback rule for shared stores: switch on an unreachable store, retry after a while."""

from __future__ import annotations

import logging

import pytest
import redis

from companion.governance.usage.fallback import Fallback, redis_options


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Store:
    """A primary that fails while ``up`` is False, counting the calls it was given."""

    def __init__(self) -> None:
        self.up = True
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if not self.up:
            raise redis.exceptions.ConnectionError("Connection refused")
        return "primary"


def test_the_fallback_serves_until_the_retry_interval_then_the_primary_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, primary = Clock(), Store()
    guard = Fallback("test store", retry_s=30, clock=clock)
    assert guard.call(primary, lambda: "fallback") == "primary"
    primary.up = False
    with caplog.at_level(logging.WARNING, "companion.governance.usage.fallback"):
        assert [guard.call(primary, lambda: "fallback") for _ in range(3)] == ["fallback"] * 3
        assert primary.calls == 2  # tried once; then not for 30 s
        clock.now += 29
        assert guard.call(primary, lambda: "fallback") == "fallback" and primary.calls == 2
        clock.now += 2
        assert guard.call(primary, lambda: "fallback") == "fallback" and primary.calls == 3
        primary.up = True
        clock.now += 31
        assert guard.call(primary, lambda: "fallback") == "primary"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2  # one warning for the outage, one when it is over
    assert "unreachable" in messages[0] and "reachable again" in messages[1]


def test_errors_other_than_unreachable_are_not_hidden() -> None:
    def bad_command() -> str:
        raise redis.exceptions.ResponseError("WRONGTYPE")

    with pytest.raises(redis.exceptions.ResponseError):
        Fallback("test store").call(bad_command, lambda: "fallback")


def test_redis_urls_get_short_timeouts_and_others_none() -> None:
    assert redis_options("redis://10.0.0.5:6379/0") == {
        "socket_connect_timeout": 1.0,
        "socket_timeout": 2.0,
    }
    assert redis_options("rediss://cache:6380") != {}
    assert redis_options("memory://") == {}
