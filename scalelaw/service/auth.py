"""Tokens: a file of hashed tokens with ``read`` or ``write`` scopes, checked on every request.

The token file holds one token per line, ``NAME SCOPE SHA256`` (``#`` starts a comment); the secret
itself is shown once, by :func:`new_token`, and never stored.  ``write`` includes ``read``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from scalelaw.errors import InputError

SCOPES = ("read", "write")


@dataclass(frozen=True)
class Token:
    """Who a token belongs to and what it may do."""

    name: str
    scope: str
    sha256: str

    def allows(self, scope: str) -> bool:
        return self.scope == "write" or scope == "read"


def digest(secret: str) -> str:
    """The stored form of a token: its SHA-256, in hex (tokens are 256 random bits: no slow hash needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def read_tokens(path: str | Path) -> tuple[Token, ...]:
    """The tokens of a token file; a malformed line is refused with its line number."""
    tokens = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) != 3 or parts[1] not in SCOPES or len(parts[2]) != 64:
            raise InputError(f"{path}, line {number}: expected 'NAME SCOPE SHA256' with SCOPE read or write; "
                             "the 'scalelaw token' command writes such lines")
        tokens.append(Token(parts[0], parts[1], parts[2].lower()))
    return tuple(tokens)


def new_token(name: str, scope: str = "write") -> tuple[str, Token]:
    """A fresh secret (shown once) and the token that the file keeps for it."""
    if scope not in SCOPES:
        raise InputError(f"scope={scope!r}: use read or write")
    if not name or any(c.isspace() for c in name):
        raise InputError(f"name={name!r}: a token name is one word")
    secret = "sl_" + secrets.token_urlsafe(32)
    return secret, Token(name, scope, digest(secret))


def find(tokens: tuple[Token, ...], secret: str) -> Token | None:
    """The token whose hash matches ``secret`` (compared in constant time), or None."""
    wanted = digest(secret)
    found = None
    for token in tokens:
        if hmac.compare_digest(token.sha256, wanted):
            found = token
    return found
