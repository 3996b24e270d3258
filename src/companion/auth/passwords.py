"""Password hashing with Argon2id; hashes made with older parameters are upgraded on login."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_PASSWORD_LENGTH = 1024  # hashing cost grows with length; refuse absurd inputs early


@dataclass(frozen=True)
class HashParameters:
    """Argon2id cost parameters (memory in KiB)."""

    time_cost: int = 3
    memory_cost: int = 65_536
    parallelism: int = 4


DEFAULT_PARAMETERS = HashParameters()
_dummy_hash: str | None = None
_hasher = PasswordHasher(
    time_cost=DEFAULT_PARAMETERS.time_cost,
    memory_cost=DEFAULT_PARAMETERS.memory_cost,
    parallelism=DEFAULT_PARAMETERS.parallelism,
)


def configure(parameters: HashParameters | None = None) -> HashParameters:
    """Hash new passwords with ``parameters`` (default: the production ones).

    Returns the parameters used until now, so a caller (a test) can put them back. Tests
    use cheap parameters; a hash made with other parameters is re-made on the next
    successful login (see ``needs_rehash``).
    """
    global _hasher, _dummy_hash
    previous = current_parameters()
    p = parameters or DEFAULT_PARAMETERS
    _hasher = PasswordHasher(
        time_cost=p.time_cost, memory_cost=p.memory_cost, parallelism=p.parallelism
    )
    _dummy_hash = None
    return previous


def current_parameters() -> HashParameters:
    """The parameters new hashes are made with."""
    return HashParameters(
        time_cost=_hasher.time_cost,
        memory_cost=_hasher.memory_cost,
        parallelism=_hasher.parallelism,
    )


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` with the current parameters."""
    if not password:
        raise ValueError("a password cannot be empty")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password is at most {MAX_PASSWORD_LENGTH} characters")
    hashed: str = _hasher.hash(password)
    return hashed


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a corrupt hash never matches."""
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the current ones."""
    try:
        return bool(_hasher.check_needs_rehash(password_hash))
    except InvalidHashError:
        return True


def verify_nothing(password: str) -> None:
    """Spend one verification's time, so an unknown user answers as slowly as a known one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("not-a-real-password")
    verify_password(_dummy_hash, password or "-")
