"""Pseudonymisation and key separation: phone numbers and chat ids never appear in clear in logs, keys or
exports, and one leaked derived key (say, the session key) reveals nothing about the others."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PURPOSES = ("pseudonym", "session", "webchat")
"""What each derived key is for; a new purpose is added here so two uses never share a key by accident."""


def derive_key(master: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the installation's secret with HKDF-SHA256 (RFC 5869)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}: add it to PURPOSES")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"infobot", info=purpose.encode())
    return hkdf.derive(master)


def pseudonymise(secret_key: bytes, identifier: str) -> str:
    """A keyed hash: stable for one installation, useless without its secret key."""
    digest = hmac.new(secret_key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:20]
