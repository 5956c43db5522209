"""Atomic output files: whole or not at all, umask permissions, paths checked first."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from yieldkit.errors import InputError
from yieldkit.outputs import OutputError, atomic_path, atomic_write, check_output_path


def test_atomic_write_replaces_target_only_when_complete(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("half")
            raise RuntimeError("killed half-way")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_full_disk_keeps_old_file_and_names_it(tmp_path, monkeypatch):
    target = tmp_path / "map.npz"
    target.write_bytes(b"precious")

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OutputError, match="map.npz.*No space left"):
        with atomic_write(target, "wb") as fh:
            fh.write(b"new content")
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.npz"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        with atomic_write(tmp_path / "a.bin", "wb") as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o666 & ~umask


def test_private_permissions_on_request(tmp_path):
    with atomic_write(tmp_path / "key.pem", "wb", permissions=0o600) as fh:
        fh.write(b"secret")
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600


def test_atomic_path_keeps_the_suffix(tmp_path):
    with atomic_path(tmp_path / "plot.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path
        tmp.write_bytes(b"png")
    assert (tmp_path / "plot.png").read_bytes() == b"png"


@pytest.mark.parametrize("name, message", [
    ("missing/x.csv", "folder .*missing does not exist"),
    ("", "empty file name"),
    (".", "is a directory"),
])
def test_check_output_path_rejects_before_work(tmp_path, monkeypatch, name, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=f"--output: .*{message}" if name else "--output: empty file name"):
        check_output_path(name, "--output")


def test_check_output_path_accepts_new_and_existing_files(tmp_path):
    assert check_output_path(tmp_path / "new.csv") == tmp_path / "new.csv"
    (tmp_path / "old.csv").write_text("a")
    check_output_path(tmp_path / "old.csv")
