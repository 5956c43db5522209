"""firmware_map: the fabric image the wafer firmware loads (see FORMAT.md).

Build an image from a :class:`yieldkit.repair_map.RepairMap`, write it to a
file, parse it back, verify it (structure, CRCs, digest, Ed25519 signature,
repair-map invariants), inspect it and diff two images.
"""

from firmware_map.errors import (
    ImageBuildError,
    ImageCRCError,
    ImageDecodeError,
    ImageDigestError,
    ImageError,
    ImageFormatError,
    ImageHeaderCRCError,
    ImageSignatureError,
    ImageVersionError,
    MismatchError,
)
from firmware_map.image import (
    FabricImage,
    build_image,
    check_design,
    decode_image,
    parse_image,
    read_image_bytes,
    write_image,
)
from firmware_map.verify import VerifyReport, verify_image

__all__ = [
    "FabricImage",
    "build_image",
    "write_image",
    "check_design",
    "parse_image",
    "decode_image",
    "read_image_bytes",
    "verify_image",
    "VerifyReport",
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
