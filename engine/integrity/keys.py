"""The office's Ed25519 key that signs checkpoints (and case exports), and its public half that verifies them.

The private key is a PKCS#8 PEM file (Settings.audit_key, EXPEDIENTE_AUDIT_KEY; by default var/audit/ed25519.pem)
created on first use with mode 0600; it never goes into the database, so whoever can edit the database cannot sign.
The public key travels as one line, "ed25519 <base64 of the 32 raw bytes>", or as a PEM file.
"""
from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.config import PROJECT_ROOT

DEFAULT_KEY_PATH = PROJECT_ROOT / "var" / "audit" / "ed25519.pem"


class AuditKeyError(ValueError):
    """A key file or public key text that cannot be read."""


def key_path(settings) -> Path:
    return Path(getattr(settings, "audit_key", None) or DEFAULT_KEY_PATH)


def load_or_create(path: Path) -> Ed25519PrivateKey:
    """The private key at `path`, created (0600, parent 0700) when the file does not exist."""
    path = Path(path)
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as exc:
            raise AuditKeyError(f"{path} is not a PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError(f"{path} is not an Ed25519 key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def office_key(settings) -> Ed25519PrivateKey:
    return load_or_create(key_path(settings))


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """16 hex characters naming the key in signed notes."""
    return hashlib.sha256(raw_public(public)).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    """The one-line form of a public key: "ed25519 <base64>"."""
    return "ed25519 " + base64.b64encode(raw_public(public)).decode()


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public(text: str | bytes) -> Ed25519PublicKey:
    """A public key from its one-line form or a PEM (public or private: a private key gives its public half)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip()
    try:
        if text.startswith("ed25519 "):
            raw = base64.b64decode(text.split(None, 1)[1].strip(), validate=True)
            return Ed25519PublicKey.from_public_bytes(raw)
        if "PRIVATE KEY" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
            public = key.public_key()
        else:
            public = serialization.load_pem_public_key(text.encode())
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(f"not an Ed25519 public key: {exc}") from exc
    if not isinstance(public, Ed25519PublicKey):
        raise AuditKeyError("not an Ed25519 public key")
    return public


def sign(private: Ed25519PrivateKey, message: bytes) -> bytes:
    return private.sign(message)


def verify(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
        return True
    except InvalidSignature:
        return False
