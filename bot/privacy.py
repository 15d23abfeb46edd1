"""Pseudonymisation: phone numbers and chat ids never appear in clear in logs, keys or exports."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymise(secret_key: bytes, identifier: str) -> str:
    """A keyed hash: stable for one installation, useless without its secret key."""
    digest = hmac.new(secret_key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:20]
