"""Signed bearer tokens (JWT, HS256): ``sub`` is the user id; expiry follows the clock port."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from companion.config import AuthSettings
from companion.errors import NotAuthenticated

# Tolerated difference between this process's clock and the issuer's, for ``iat``.
CLOCK_SKEW = dt.timedelta(seconds=30)
REQUIRED_CLAIMS = ("sub", "iat", "exp", "jti")


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says."""

    user_id: int
    issued_at: dt.datetime
    expires_at: dt.datetime
    token_id: str


def _refuse(message: str, reason: str) -> NotAuthenticated:
    return NotAuthenticated(message, details={"reason": reason})


def encode_token(auth: AuthSettings, user_id: int, now: dt.datetime) -> tuple[str, dt.datetime]:
    """A token for ``user_id`` valid from ``now`` for the configured lifetime."""
    issued = now.astimezone(dt.UTC).replace(microsecond=0)
    expires = issued + dt.timedelta(minutes=auth.token_ttl_minutes)
    claims = {
        "sub": str(user_id),
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, auth.secret_key, algorithm=auth.algorithm), expires


def decode_token(auth: AuthSettings, token: str, now: dt.datetime) -> TokenClaims:
    """Check signature, shape and expiry; every failure is ``NotAuthenticated`` with a reason."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            auth.secret_key,
            algorithms=[auth.algorithm],
            # Expiry is checked below against the clock port, not the wall clock.
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise _refuse("The token's signature is not valid", "token_bad_signature") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise _refuse(
            "The token is signed with an unexpected algorithm", "token_bad_algorithm"
        ) from exc
    except jwt.MissingRequiredClaimError as exc:
        raise _refuse(f"The token lacks the '{exc.claim}' claim", "token_malformed") from exc
    except jwt.InvalidTokenError as exc:
        raise _refuse("The token is malformed", "token_malformed") from exc
    try:
        user_id = int(claims["sub"])
        issued = dt.datetime.fromtimestamp(int(claims["iat"]), dt.UTC)
        expires = dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
        token_id = str(claims["jti"])
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise _refuse("The token's claims are malformed", "token_malformed") from exc
    if now >= expires:
        raise _refuse("The token has expired; log in again", "token_expired")
    if issued > now + CLOCK_SKEW:
        raise _refuse("The token is not valid yet", "token_not_yet_valid")
    return TokenClaims(user_id=user_id, issued_at=issued, expires_at=expires, token_id=token_id)
