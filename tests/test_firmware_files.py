"""Image and key files: firmware_map.image.write_image and firmware_map.signing (permissions, atomicity, loaders)."""

from __future__ import annotations

import os
import stat

import pytest

from firmware_map import build_image, parse_image
from firmware_map.image import write_image
from firmware_map.signing import KeyFileError, generate_key, load_private_key, load_public_key, public_key_bytes, write_keypair
from tests.fabric_samples import planned_map, tiny_design


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_image_file_follows_the_umask_and_replaces_whole(tmp_path, umask_022):
    """A flashing service running as another user can read the image: 0644 under umask 022, not 0600."""
    image = build_image(planned_map(tiny_design()), wafer_id="W1")
    target = tmp_path / "w1.fabimg"
    target.write_bytes(b"old image")
    assert write_image(image, target) == target
    assert target.read_bytes() == image and _mode(target) == 0o644
    assert parse_image(target.read_bytes()).wafer_id == "W1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w1.fabimg"]  # no temporary file left


def test_image_write_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "w1.fabimg"
    target.write_bytes(b"old image")
    with pytest.raises(TypeError):
        write_image(object(), target)  # type: ignore[arg-type]  # not bytes: the write fails half-way
    assert target.read_bytes() == b"old image"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w1.fabimg"]


def test_keypair_private_key_is_0600_public_key_follows_the_umask(tmp_path, umask_022):
    key = generate_key()
    private, public = write_keypair(key, tmp_path / "fab.key")
    assert (_mode(private), _mode(public)) == (0o600, 0o644)
    assert public_key_bytes(load_private_key(private)) == load_public_key(public) == public_key_bytes(key)
    with pytest.raises(KeyFileError, match="already exists"):
        write_keypair(generate_key(), tmp_path / "fab.key")
    assert public_key_bytes(load_private_key(private)) == public_key_bytes(key)  # not overwritten


def test_public_key_loader_refuses_a_private_key(tmp_path):
    private, _ = write_keypair(generate_key(), tmp_path / "fab.key")
    with pytest.raises(KeyFileError, match=rf"^{private}: is a private key; .*public key \({private}.pub\)"):
        load_public_key(private)
