"""``yieldkit firmware``: build, verify, inspect, diff, keygen through the CLI root."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from yieldkit.defect_map import DefectMap
from yieldkit.design import load_design

from firmware_map import decode_image
from tests.fabric_samples import planned_map
from tests.cli_runner import run

README = Path(__file__).resolve().parents[1] / "README.md"



@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fw")
    small = load_design("small")
    rows = np.arange(0, 64, 4)
    dead = rows * small.cols + (rows * 7) % 64
    defects = DefectMap(small.rows, small.cols, dead, design="small")
    old, new = planned_map(small), planned_map(small, dead)
    old.save(tmp / "old.npz")
    new.save(tmp / "new.npz")
    defects.save(tmp / "defects.json")
    later = DefectMap(small.rows, small.cols, np.append(dead, new.physical_of_logical[9, 9]), design="small")
    later.save(tmp / "later.json")
    return tmp, old, new


def test_keygen_build_verify_signed(files):
    tmp, _, new = files
    key = tmp / "fab.key"
    r = run("firmware", "keygen", "-o", str(key), "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert Path(info["public_key"]).read_text().startswith("-----BEGIN PUBLIC KEY")
    assert key.stat().st_mode & 0o077 == 0
    assert run("firmware", "keygen", "-o", str(key)).exit_code == 2  # never overwrite a key

    img = tmp / "new.fabimg"
    r = run("firmware", "build", str(tmp / "new.npz"), "-o", str(img), "--sign-key", str(key),
            "--wafer-id", "W17", "--meta", "built_at=2026-01-02", "--meta", "shift=3", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["bytes"] == img.stat().st_size and out["signed"] and out["wafer_id"] == "W17"
    rm = decode_image(img.read_bytes())
    assert np.array_equal(rm.physical_of_logical, new.physical_of_logical)

    for pub in (info["public_key"], info["public_key_hex"]):
        r = run("firmware", "verify", str(img), "--pubkey", pub, "--defects", str(tmp / "defects.json"), "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["ok"] is True


def test_build_is_byte_identical(files):
    tmp, _, _ = files
    a, b = tmp / "a.fabimg", tmp / "b.fabimg"
    for target in (a, b):
        assert run("firmware", "build", str(tmp / "new.npz"), "-o", str(target), "--wafer-id", "X").exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_build_refuses_an_invalid_map_unless_told(files):
    tmp, _, new = files
    from yieldkit.repair_map import RepairMap

    grid = new.physical_of_logical.copy()
    grid[0, 0] = grid[0, 1]
    RepairMap(grid, new.defects, new.scheme, new.scheme_params, new.design, new.design_fingerprint).save(tmp / "bad.npz")
    r = run("firmware", "build", str(tmp / "bad.npz"), "-o", str(tmp / "bad.fabimg"))
    assert r.exit_code == 1 and "injective" in r.output and not (tmp / "bad.fabimg").exists()
    r = run("firmware", "build", str(tmp / "bad.npz"), "-o", str(tmp / "bad.fabimg"), "--no-check", "--json")
    assert r.exit_code == 0
    r = run("firmware", "verify", str(tmp / "bad.fabimg"), "--json")
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert report["failed_check"] == "invariants" and report["violations"]
    assert "Error:" in r.stderr and "invariants check failed at logical" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_verify_with_later_defects_fails_with_location(files):
    tmp, _, _ = files
    img = tmp / "v.fabimg"
    assert run("firmware", "build", str(tmp / "new.npz"), "-o", str(img)).exit_code == 0
    r = run("firmware", "verify", str(img), "--defects", str(tmp / "later.json"), "--json")
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert report["failed_check"] == "defects" and report["where"].startswith("logical (9, 9)")


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        (lambda b: b[:100], "structure"),
        (lambda b: b"XXXXXXXX" + b[8:], "structure"),
        (lambda b: b[:8] + b"\x05\x00" + b[10:], "version"),
        (lambda b: b[:600] + bytes([b[600] ^ 1]) + b[601:], "crc"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "digest"),
    ],
)
def test_verify_malformed_image_exits_2_with_json_and_one_line(files, mutate, check):
    tmp, _, _ = files
    img = tmp / "m.fabimg"
    assert run("firmware", "build", str(tmp / "new.npz"), "-o", str(img)).exit_code == 0
    bad = tmp / f"bad-{check}.fabimg"
    bad.write_bytes(mutate(img.read_bytes()))
    r = run("firmware", "verify", str(bad), "--json")
    assert r.exit_code == 2
    assert json.loads(r.stdout)["failed_check"] == check
    assert re.fullmatch(rf"Error: .*{check} check failed.*\n", r.stderr)
    r = run("firmware", "inspect", str(bad))
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.output


def test_verify_bad_key_and_unsigned_image(files, tmp_path):
    tmp, _, _ = files
    img = tmp / "u.fabimg"
    assert run("firmware", "build", str(tmp / "new.npz"), "-o", str(img)).exit_code == 0
    (tmp_path / "junk.pub").write_text("not a key")
    r = run("firmware", "verify", str(img), "--pubkey", str(tmp_path / "junk.pub"))
    assert r.exit_code == 2 and "not a PEM public key" in r.stderr
    assert run("firmware", "keygen", "-o", str(tmp_path / "k")).exit_code == 0
    r = run("firmware", "verify", str(img), "--pubkey", str(tmp_path / "k.pub"), "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)["failed_check"] == "signature"
    r = run("firmware", "build", str(tmp / "new.npz"), "-o", str(tmp_path / "x"), "--sign-key", str(tmp_path / "k.pub"))
    assert r.exit_code == 2 and "private key" in r.stderr


def test_inspect_json_and_plot(files):
    tmp, _, new = files
    img = tmp / "i.fabimg"
    assert run("firmware", "build", str(tmp / "new.npz"), "-o", str(img), "--wafer-id", "W9").exit_code == 0
    png = tmp / "i.png"
    r = run("firmware", "inspect", str(img), "--json", "--plot", str(png))
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["wafer_id"] == "W9" and s["design"] == "small" and s["format_version"] == "1.0"
    assert s["dead_cores"] == 16 and s["logical_cores"] == 4096
    assert s["mapped_out_sites"] == 64 * 68 - 4096
    assert {x["name"] for x in s["sections"]} >= {"MAP", "ROUTER", "DEAD_CORES", "DEAD_LINKS", "META", "ABSENT_SITES"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = run("firmware", "inspect", str(img), "--table")
    assert r.exit_code == 0 and "wafer_id" in r.output


def test_diff_lists_mapped_out_moved_and_router_changes(files):
    tmp, old, new = files
    a, b = tmp / "old.fabimg", tmp / "new2.fabimg"
    assert run("firmware", "build", str(tmp / "old.npz"), "-o", str(a)).exit_code == 0
    assert run("firmware", "build", str(tmp / "new.npz"), "-o", str(b)).exit_code == 0
    r = run("firmware", "diff", str(a), str(b), "--json", "--limit", "5")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    moved = int((old.physical_of_logical != new.physical_of_logical).sum())
    assert d["n_moved"] == moved and len(d["moved"]) == 5
    assert d["n_newly_dead"] == 16
    dead = new.defects.dead_sites
    assert d["n_newly_mapped_out"] == int(np.isin(dead, old.physical_of_logical).sum())
    assert d["n_router_changed"] > 0
    first = d["moved"][0]
    i, j = first["logical"]
    assert first["new"] == list(divmod(int(new.physical_of_logical[i, j]), 68))
    r = run("firmware", "diff", str(a), str(b), "--csv")
    assert r.exit_code == 0 and r.output.startswith("change,logical_row")
    assert run("firmware", "diff", str(a), str(a), "--json").exit_code == 0
    r = run("firmware", "diff", str(a), str(a), "--json")
    assert json.loads(r.output)["n_moved"] == 0


def test_missing_files_are_one_line_exit_2(files, tmp_path):
    for args in (("build", str(tmp_path / "none.npz"), "-o", str(tmp_path / "x")),
                 ("verify", str(tmp_path / "none.img")),
                 ("inspect", str(tmp_path / "none.img")),
                 ("diff", str(tmp_path / "a"), str(tmp_path / "b"))):
        r = run("firmware", *args)
        assert r.exit_code == 2 and r.stderr.count("\n") == 1, (args, r.output)


def test_every_command_has_help_with_an_example_and_a_readme_entry():
    from firmware_map.cli import firmware

    readme = README.read_text(encoding="utf-8")
    assert "### yieldkit firmware" in readme
    for name, command in firmware.commands.items():
        r = run("firmware", name, "--help")
        assert r.exit_code == 0 and "Example:" in r.output, name
        assert f"yieldkit firmware {name}" in readme, name
