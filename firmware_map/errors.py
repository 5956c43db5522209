"""Typed errors of the fabric image reader and writer.

Every error is a :class:`yieldkit.errors.InputError` (the CLI prints one line
and exits 2) and names the failing ``check`` (one of :data:`CHECKS`) and
``where`` (header, a section and its offset, a site) so that ``verify --json``
can report them.
"""

from __future__ import annotations

from yieldkit.errors import InputError

__all__ = [
    "CHECKS",
    "ImageError",
    "ImageFormatError",
    "ImageVersionError",
    "ImageCRCError",
    "ImageHeaderCRCError",
    "ImageDigestError",
    "ImageSignatureError",
    "ImageDecodeError",
    "ImageBuildError",
    "MismatchError",
]

#: The checks of ``verify``, in the order they run (see FORMAT.md).
CHECKS = ("structure", "version", "header_crc", "crc", "digest", "signature", "decode",
          "router", "design", "invariants", "defects")


class ImageError(InputError):
    """A fabric image is malformed, tampered with or of an unsupported version."""

    check = "structure"

    def __init__(self, message: str, where: str = "") -> None:
        self.message = message
        self.where = where
        super().__init__(f"{self.check} check failed at {where}: {message}" if where else f"{self.check} check failed: {message}")


class ImageFormatError(ImageError):
    """Truncated file, wrong magic, lying lengths or offsets, impossible counts."""

    check = "structure"


class ImageVersionError(ImageError):
    """The image's format version is newer (or older) than this reader supports."""

    check = "version"


class ImageCRCError(ImageError):
    """The CRC32 of the header or of a section does not match its bytes."""

    check = "crc"


class ImageHeaderCRCError(ImageCRCError):
    """The CRC32 of the header and section table does not match."""

    check = "header_crc"


class ImageDigestError(ImageError):
    """The SHA-256 digest does not match the image."""

    check = "digest"


class ImageSignatureError(ImageError):
    """The Ed25519 signature is missing, invalid or made with another key."""

    check = "signature"


class ImageDecodeError(ImageError):
    """A section's content does not decode to a valid repair map."""

    check = "decode"


class ImageBuildError(InputError):
    """A repair map, wafer id, key or metadata cannot be written into an image."""


class MismatchError(InputError):
    """A defect map or design given with an image or repair map belongs to another wafer grid or design.

    Bad input like a malformed file (CLI exit 2): the files do not belong
    together, so nothing can be checked. ``parameter`` names the argument
    (``defects`` or ``design``) so that the CLI can name its option.
    """
