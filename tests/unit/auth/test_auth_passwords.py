"""Argon2id hashing: verify, refuse, and know when a hash is out of date."""

from __future__ import annotations

import pytest

from companion.auth.passwords import (
    DEFAULT_PARAMETERS,
    MAX_PASSWORD_LENGTH,
    HashParameters,
    PasswordHasher,
)
from companion.config import AuthSettings

CHEAP = HashParameters(time_cost=1, memory_cost=8, parallelism=1)
OTHER = HashParameters(time_cost=2, memory_cost=16, parallelism=1)


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(CHEAP)


def test_a_hash_verifies_its_password_only(hasher: PasswordHasher) -> None:
    hashed = hasher.hash("correct horse")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert hasher.verify(hashed, "correct horse")
    assert not hasher.verify(hashed, "correct horsE")
    assert not hasher.verify(hashed, "")


def test_the_same_password_hashes_differently_each_time(hasher: PasswordHasher) -> None:
    assert hasher.hash("same") != hasher.hash("same")


def test_a_corrupt_hash_never_matches(hasher: PasswordHasher) -> None:
    assert not hasher.verify("not-a-hash", "anything")
    assert not hasher.verify("$argon2id$v=19$m=8,t=1,p=1$garbage", "anything")
    assert hasher.needs_rehash("not-a-hash")


@pytest.mark.parametrize("bad", ["", "x" * (MAX_PASSWORD_LENGTH + 1)])
def test_empty_and_absurdly_long_passwords_are_refused(hasher: PasswordHasher, bad: str) -> None:
    with pytest.raises(ValueError):
        hasher.hash(bad)
    assert not hasher.verify(hasher.hash("ok"), bad)


def test_a_hash_made_with_other_parameters_needs_rehash(hasher: PasswordHasher) -> None:
    cheap_hash = hasher.hash("pw")
    assert not hasher.needs_rehash(cheap_hash)
    other = PasswordHasher(OTHER)
    assert other.needs_rehash(cheap_hash)
    assert other.verify(cheap_hash, "pw")  # still verifies with old parameters


def test_verify_nothing_accepts_any_input_and_returns_nothing(hasher: PasswordHasher) -> None:
    assert hasher.verify_nothing("whatever") is None
    assert hasher.verify_nothing("") is None


def test_two_hashers_in_one_process_keep_their_own_parameters() -> None:
    cheap, other = PasswordHasher(CHEAP), PasswordHasher(OTHER)
    assert "m=8,t=1,p=1" in cheap.hash("pw")
    assert "m=16,t=2,p=1" in other.hash("pw")
    assert "m=8,t=1,p=1" in cheap.hash("pw")  # making the other changed nothing here
    assert cheap.parameters == CHEAP and other.parameters == OTHER


def test_the_settings_name_the_costs_and_default_to_production() -> None:
    assert HashParameters.from_settings(AuthSettings()) == DEFAULT_PARAMETERS
    auth = AuthSettings(password_time_cost=2, password_memory_kib=16, password_parallelism=1)
    assert PasswordHasher.from_settings(auth).parameters == OTHER
