"""Secrets the database must give back, not just compare: an authenticator app's shared key. Each is sealed with
AES-256-GCM under a key derived (HKDF-SHA256) from the settings' secret key, and bound to the row it belongs to,
so a copy of the database (a backup, a leaked dump) holds no usable key, and a sealed value moved to another
person's row does not open (ASVS 5.0 11.3, 14.2).

The secret key therefore also guards these: changing SECRET_KEY means every authenticator app is set up again
(a firm's administrator can reset a member's 2-step verification; anyone can use a recovery code).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed1:"  # the format, so a later one can be told apart
NONCE_BYTES = 12


class Unsealable(Exception):
    """Not a sealed value, sealed under another key, or moved from the row it was sealed for."""


def data_key(secret_key: str, purpose: str) -> bytes:
    """A 256-bit key for one purpose, derived from the settings' secret key (never that key itself)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"portal data at rest",
                info=purpose.encode()).derive(secret_key.encode())


def seal(key: bytes, plaintext: str, *, bound_to: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), bound_to.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(key: bytes, value: str, *, bound_to: str) -> str:
    if not value.startswith(PREFIX):
        raise Unsealable("not sealed")
    try:
        raw = base64.urlsafe_b64decode(value[len(PREFIX):])
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode()).decode()
    except (InvalidTag, ValueError) as error:
        raise Unsealable("does not open") from error


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)
