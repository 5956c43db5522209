"""Ed25519 keys and signatures of fabric images (``cryptography``; RFC 8032).

The image's signature is over its 32-byte SHA-256 digest. Private keys are
PKCS#8 PEM files, public keys SubjectPublicKeyInfo PEM files (``KEY.pub``
next to ``KEY``); a public key may also be given as 64 hex digits of the raw
key.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from yieldkit.errors import InputError
from yieldkit.outputs import atomic_write

__all__ = ["KeyFileError", "generate_key", "write_keypair", "load_private_key", "load_public_key",
           "public_key_bytes", "sign_digest", "verify_signature"]


class KeyFileError(InputError):
    """A key file is missing, unreadable or not an Ed25519 key."""


def generate_key() -> Ed25519PrivateKey:
    """A new random Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def write_keypair(key: Ed25519PrivateKey, path: str | Path) -> tuple[Path, Path]:
    """Write ``path`` (private key, PKCS#8 PEM, mode 0600) and ``path.pub`` (public key, umask permissions).

    Each file is written whole or not at all (:func:`yieldkit.outputs.atomic_write`);
    the private key is never readable by others, not even for a moment. The
    public key follows the umask, so the services that verify images can read it.

    Raises
    ------
    KeyFileError
        ``path`` or ``path.pub`` exists already (a key is never overwritten).

    Examples
    --------
    >>> import os, stat, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> old = os.umask(0o022)
    >>> private, public = write_keypair(generate_key(), folder / "fab.key")
    >>> _ = os.umask(old)
    >>> oct(stat.S_IMODE(private.stat().st_mode)), oct(stat.S_IMODE(public.stat().st_mode))
    ('0o600', '0o644')
    """
    path = Path(path)
    pub = path.with_name(path.name + ".pub")
    for target in (path, pub):
        if target.exists():
            raise KeyFileError(f"{target}: already exists; refusing to overwrite a key")
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    with atomic_write(path, "wb", permissions=0o600) as handle:
        handle.write(private_pem)
    with atomic_write(pub, "wb") as handle:
        handle.write(public_pem)
    return path, pub


def _read(path: str | Path, what: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    if len(data) > 64 * 1024:
        raise KeyFileError(f"{path}: too large to be a {what}")
    return data


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key from a PEM file."""
    data = _read(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key ({str(exc).splitlines()[0] if str(exc) else 'invalid'})") from None
    except Exception as exc:  # noqa: BLE001 - cryptography raises several types for bad key data
        raise KeyFileError(f"{path}: not a PEM private key ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return key


def load_public_key(path_or_hex: str | Path) -> bytes:
    """Raw 32-byte Ed25519 public key from a public-key PEM file or 64 hex digits.

    Raises
    ------
    KeyFileError
        The file cannot be read, is not an Ed25519 public key, or is a
        private key (verification takes the public key, ``KEY.pub``).

    Examples
    --------
    >>> load_public_key("ab" * 32) == bytes([0xab] * 32)
    True
    """
    text = str(path_or_hex)
    if len(text) == 64 and not Path(text).exists():
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    data = _read(path_or_hex, "public key")
    if b"PRIVATE KEY-----" in data:
        raise KeyFileError(f"{path_or_hex}: is a private key; verifying takes the public key ({path_or_hex}.pub)")
    try:
        key = serialization.load_pem_public_key(data)
    except Exception:  # noqa: BLE001 - cryptography raises several types for bad key data
        raise KeyFileError(f"{path_or_hex}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path_or_hex}: not an Ed25519 key")
    return public_key_bytes(key)


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The raw 32-byte public key."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_digest(key: Ed25519PrivateKey, digest: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``digest`` (deterministic, RFC 8032)."""
    return key.sign(digest)


def verify_signature(public_key: bytes, signature: bytes, digest: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature of ``digest``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, digest)
    except (InvalidSignature, ValueError):
        return False
    return True
