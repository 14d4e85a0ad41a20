"""Verification codes: random (not derived from case data), at least 80 bits, read aloud in groups of four.

Crockford's base32 (digits and letters without I, L, O, U): a person who types O for 0, I or L for 1, lower case,
spaces or no dashes still gets the same code back from `parse_verification_code`."""
from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: 5 bits a character
BITS_PER_CHAR = 5
LENGTH = 16  # 80 bits
GROUP = 4
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})


def verification_code() -> str:
    """A new code such as `7KQ2-M9XD-4TRB-PW3H`: LENGTH characters drawn by `secrets`, 80 bits."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def parse_verification_code(typed: str) -> str | None:
    """The canonical grouped code for what a person typed, or None when it cannot be one."""
    raw = "".join(ch for ch in typed.upper() if ch not in " -\t\n").translate(_TYPED)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))
