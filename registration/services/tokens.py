"""Single-use link tokens: the token goes in the email, only its hash is stored."""

import hashlib
import secrets


def token_new() -> tuple[str, str]:
    """A fresh URL-safe token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
