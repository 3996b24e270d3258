"""Password hashing with Argon2id; hashes made with older parameters are upgraded on login.

A ``PasswordHasher`` is built from settings by the composition root (``bootstrap``) and
handed to the calls that hash or check a password; there is no process-wide hasher, so
two containers with different costs (a test's cheap one, production's) never meet.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

from companion.config import AuthSettings

MAX_PASSWORD_LENGTH = 1024  # hashing cost grows with length; refuse absurd inputs early


@dataclass(frozen=True)
class HashParameters:
    """Argon2id cost parameters (memory in KiB)."""

    time_cost: int = 3
    memory_cost: int = 65_536
    parallelism: int = 4

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> HashParameters:
        """The costs ``COMPANION_AUTH__PASSWORD_*`` name."""
        return cls(
            time_cost=auth.password_time_cost,
            memory_cost=auth.password_memory_kib,
            parallelism=auth.password_parallelism,
        )


DEFAULT_PARAMETERS = HashParameters()


class PasswordHasher:
    """Hashes and checks passwords with one set of Argon2id parameters."""

    def __init__(self, parameters: HashParameters = DEFAULT_PARAMETERS) -> None:
        self.parameters = parameters
        self._argon2 = Argon2Hasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost,
            parallelism=parameters.parallelism,
        )
        self._dummy_hash: str | None = None
        self._dummy_lock = threading.Lock()

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> PasswordHasher:
        """A hasher with the costs the settings name."""
        return cls(HashParameters.from_settings(auth))

    def hash(self, password: str) -> str:
        """An Argon2id hash of ``password`` with this hasher's parameters."""
        if not password:
            raise ValueError("a password cannot be empty")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValueError(f"a password is at most {MAX_PASSWORD_LENGTH} characters")
        hashed: str = self._argon2.hash(password)
        return hashed

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``; a corrupt hash never matches."""
        if not password or len(password) > MAX_PASSWORD_LENGTH:
            return False
        try:
            return bool(self._argon2.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than this hasher's."""
        try:
            return bool(self._argon2.check_needs_rehash(password_hash))
        except InvalidHashError:
            return True

    def verify_nothing(self, password: str) -> None:
        """Spend one verification's time, so an unknown user answers as slowly as a known
        one."""
        with self._dummy_lock:
            if self._dummy_hash is None:
                self._dummy_hash = self.hash("not-a-real-password")
            dummy = self._dummy_hash
        self.verify(dummy, password or "-")
