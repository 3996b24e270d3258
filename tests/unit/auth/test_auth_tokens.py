"""Bearer tokens: round trip, and a distinct reason for every way one can be wrong."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from companion.auth.tokens import decode_token, encode_token
from companion.config import AuthSettings
from companion.errors import NotAuthenticated

AUTH = AuthSettings(secret_key="unit-test-secret-0123456789-abcdefghijkl", token_ttl_minutes=60)
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _reason(token: str, now: dt.datetime = NOW, auth: AuthSettings = AUTH) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        decode_token(auth, token, now)
    assert caught.value.status_code == 401
    return str(caught.value.details["reason"])


def test_a_token_round_trips() -> None:
    token, expires = encode_token(AUTH, 42, NOW)
    assert expires == NOW + dt.timedelta(minutes=60)
    claims = decode_token(AUTH, token, NOW + dt.timedelta(minutes=59))
    assert claims.user_id == 42
    assert claims.issued_at == NOW
    assert claims.expires_at == expires
    assert len(claims.token_id) == 32


def test_every_token_has_its_own_id() -> None:
    a, _ = encode_token(AUTH, 1, NOW)
    b, _ = encode_token(AUTH, 1, NOW)
    assert decode_token(AUTH, a, NOW).token_id != decode_token(AUTH, b, NOW).token_id


def test_an_expired_token_is_refused_by_the_clock_given() -> None:
    token, expires = encode_token(AUTH, 1, NOW)
    assert _reason(token, now=expires) == "token_expired"
    assert _reason(token, now=expires + dt.timedelta(days=1)) == "token_expired"


def test_another_secret_is_a_bad_signature() -> None:
    token, _ = encode_token(AUTH, 1, NOW)
    other = AuthSettings(secret_key="some-other-secret-0123456789-abcdefghijk")
    assert _reason(token, auth=other) == "token_bad_signature"


def test_an_edited_payload_is_a_bad_signature() -> None:
    token, _ = encode_token(AUTH, 1, NOW)
    head, payload, sig = token.split(".")
    forged = jwt.encode(
        {"sub": "2", "iat": 0, "exp": 9_999_999_999, "jti": "x"},
        "whatever-secret-value-long-enough",
    ).split(".")[1]
    assert _reason(f"{head}.{forged}.{sig}") == "token_bad_signature"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "a.b", "ö.ö.ö"])
def test_garbage_is_malformed(token: str) -> None:
    assert _reason(token) == "token_malformed"


def test_a_missing_claim_is_malformed() -> None:
    token = jwt.encode({"sub": "1", "iat": 0}, AUTH.secret_key, algorithm="HS256")
    assert _reason(token) == "token_malformed"


def test_a_non_numeric_subject_is_malformed() -> None:
    claims = {"sub": "alice", "iat": int(NOW.timestamp()), "exp": 9_999_999_999, "jti": "j"}
    token = jwt.encode(claims, AUTH.secret_key, algorithm="HS256")
    assert _reason(token) == "token_malformed"


def test_an_unsigned_token_is_refused() -> None:
    claims = {"sub": "1", "iat": int(NOW.timestamp()), "exp": 9_999_999_999, "jti": "j"}
    token = jwt.encode(claims, None, algorithm="none")
    assert _reason(token) in {"token_bad_algorithm", "token_malformed"}


def test_a_token_from_the_future_is_refused() -> None:
    token, _ = encode_token(AUTH, 1, NOW + dt.timedelta(hours=1))
    assert _reason(token) == "token_not_yet_valid"
