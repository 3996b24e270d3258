"""Rate limits in memory and in the real Redis: counts, lockouts and Retry-After."""

from __future__ import annotations

import uuid

import pytest
import redis

from companion.config import RateLimitSettings
from companion.governance.usage.ratelimit import ChatThrottled, LoginThrottled, RateLimiter


@pytest.fixture(params=["memory://", "redis://127.0.0.1:6379/0"])
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_login_lockout_per_username_and_address(storage: str) -> None:
    limiter = RateLimiter(
        RateLimitSettings(
            storage_url=storage, login_per_username="2 per minute", login_per_ip="3 per minute"
        )
    )
    name = f"user-{uuid.uuid4().hex[:8]}"  # Redis is shared: names of this test only
    address = f"10.0.0.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:4]}"
    try:
        limiter.check_login(name, address)
        limiter.login_failed(name, address)
        limiter.check_login(name.upper(), address)  # one failure: still allowed
        limiter.login_failed(name, address)
        with pytest.raises(LoginThrottled) as locked:
            limiter.check_login(name, address)
        assert locked.value.status_code == 429
        assert 0 < locked.value.details["retry_after"] <= 60
        limiter.check_login(f"{name}-other", address)  # another name, same address: 2 of 3
        limiter.login_failed(f"{name}-other", address)
        with pytest.raises(LoginThrottled, match="this address"):
            limiter.check_login(f"{name}-third", address)
    finally:
        limiter.reset()


def test_chat_turns_per_user(storage: str) -> None:
    limiter = RateLimiter(RateLimitSettings(storage_url=storage, chat_per_user="3 per minute"))
    user = uuid.uuid4().int % 2_000_000_000
    try:
        limiter.chat_turn(user, count=False)  # a check alone counts nothing
        for _ in range(3):
            limiter.chat_turn(user)
        with pytest.raises(ChatThrottled) as refused:
            limiter.chat_turn(user)
        assert refused.value.code == "chat_rate_limited"
        assert 0 < refused.value.details["retry_after"] <= 60
        with pytest.raises(ChatThrottled):
            limiter.chat_turn(user, count=False)
        limiter.chat_turn(user + 1)  # another user has their own allowance
    finally:
        limiter.reset()


def test_switched_off_limits_refuse_nothing() -> None:
    limiter = RateLimiter(RateLimitSettings(chat_per_user="1 per hour", enabled=False))
    for _ in range(5):
        limiter.chat_turn(1)
        limiter.login_failed("x", "y")
    limiter.check_login("x", "y")


def test_a_redis_url_is_really_used() -> None:
    limiter = RateLimiter(
        RateLimitSettings(storage_url="redis://127.0.0.1:6379/0", chat_per_user="5 per minute")
    )
    user = uuid.uuid4().int % 2_000_000_000
    try:
        limiter.chat_turn(user)
        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        keys = [k.decode() for k in client.scan_iter(f"*chat/{user}*")]
        client.close()
        assert keys, "no key of this user's chat window in Redis"
    finally:
        limiter.reset()


@pytest.mark.parametrize("rate", ["lots", "", "5 per fortnight", "-1 per minute"])
def test_a_rate_that_is_not_one_is_refused_at_startup(rate: str) -> None:
    with pytest.raises(ValueError, match="is not a rate such as"):
        RateLimitSettings(chat_per_user=rate)
