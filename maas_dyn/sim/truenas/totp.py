"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), as ``pyotp`` computes them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import struct
import time

__all__ = ["new_secret", "totp", "verify"]

_STEP = 30
_DIGITS = 6


def new_secret(rng: random.Random, length: int = 16) -> str:
    """Make a base32 secret, the form authenticator apps are given.

    Args:
        rng: Source of randomness (a seeded one makes secrets reproducible).
        length: Bytes of entropy.

    Returns:
        An unpadded base32 string.
    """
    raw = bytes(rng.randrange(256) for _ in range(length))
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def _counter_code(secret: str, counter: int) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**_DIGITS).zfill(_DIGITS)


def totp(secret: str, at: float | None = None) -> str:
    """Compute the code valid at a moment.

    Args:
        secret: Base32 secret.
        at: Unix time; now when omitted.

    Returns:
        The 6-digit code.
    """
    moment = time.time() if at is None else at
    return _counter_code(secret, int(moment // _STEP))


def verify(secret: str, code: str, at: float | None = None, window: int = 1) -> bool:
    """Check a code, accepting ``window`` steps of clock drift either way.

    Args:
        secret: Base32 secret.
        code: The code the user typed.
        at: Unix time; now when omitted.
        window: Steps of tolerance.

    Returns:
        True when the code matches one of the steps.
    """
    moment = time.time() if at is None else at
    counter = int(moment // _STEP)
    return any(hmac.compare_digest(_counter_code(secret, counter + delta), code)
               for delta in range(-window, window + 1))
