"""Argon2id hashing: verify, refuse, and know when a hash is out of date."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from companion.auth import passwords

CHEAP = passwords.HashParameters(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap() -> Iterator[None]:
    previous = passwords.configure(CHEAP)
    yield
    passwords.configure(previous)


def test_a_hash_verifies_its_password_only() -> None:
    hashed = passwords.hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert passwords.verify_password(hashed, "correct horse")
    assert not passwords.verify_password(hashed, "correct horsE")
    assert not passwords.verify_password(hashed, "")


def test_the_same_password_hashes_differently_each_time() -> None:
    assert passwords.hash_password("same") != passwords.hash_password("same")


def test_a_corrupt_hash_never_matches() -> None:
    assert not passwords.verify_password("not-a-hash", "anything")
    assert not passwords.verify_password("$argon2id$v=19$m=8,t=1,p=1$garbage", "anything")
    assert passwords.needs_rehash("not-a-hash")


@pytest.mark.parametrize("bad", ["", "x" * (passwords.MAX_PASSWORD_LENGTH + 1)])
def test_empty_and_absurdly_long_passwords_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        passwords.hash_password(bad)
    assert not passwords.verify_password(passwords.hash_password("ok"), bad)


def test_a_hash_made_with_other_parameters_needs_rehash() -> None:
    cheap_hash = passwords.hash_password("pw")
    assert not passwords.needs_rehash(cheap_hash)
    passwords.configure(passwords.HashParameters(time_cost=2, memory_cost=16, parallelism=1))
    assert passwords.needs_rehash(cheap_hash)
    assert passwords.verify_password(cheap_hash, "pw")  # still verifies with old parameters


def test_verify_nothing_accepts_any_input_and_returns_nothing() -> None:
    assert passwords.verify_nothing("whatever") is None
    assert passwords.verify_nothing("") is None


def test_configure_returns_what_it_replaced() -> None:
    other = passwords.HashParameters(time_cost=2, memory_cost=16, parallelism=1)
    assert passwords.configure(other) == CHEAP
    assert passwords.current_parameters() == other
    assert passwords.configure(None) == other
    assert passwords.current_parameters() == passwords.DEFAULT_PARAMETERS
