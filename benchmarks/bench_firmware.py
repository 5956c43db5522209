"""Fabric image build / verify on a ``wse``-sized wafer, and image size per core.

Targets: ``build_image`` under 200 ms and ``verify_image`` under 100 ms for
the ``wse`` preset (893,064 logical cores on 1200 x 810 sites); MAP and
ROUTER sections together under 1 byte per logical core.

Peers, measured in the same run on the same map:

* a naive per-core Python writer (a loop over logical cores packing each
  physical ``(row, col)`` as two ``u16``, and a loop over sites packing a
  router byte), with the same CRC32 and SHA-256;
* ``np.savez`` (uncompressed) and ``RepairMap.save`` (``savez_compressed``)
  of the same map, for size and time.

The map is the planner's repair (``yieldkit.repair.repair_wafer``, as
``yieldkit repair`` makes it) of a wafer with one dead site in each of
``--dead`` random rows of the logical band and 20 dead links between the
spare rows above it, so every check of ``verify`` runs to the end. Times are the minimum and median of ``--repeat`` runs after one
warm-up run.

Where ``verify_image``'s time goes is printed stage by stage (each stage
timed alone on the same image): ``parse_image`` (CRCs, SHA-256, Ed25519,
MAP decode), the router check (planes recomputed from the decoded map and
compared byte for byte), the repair-map invariants
(``yieldkit.verify.verify_repair_map``), and the rest (design check, report).

    .venv/bin/python benchmarks/bench_firmware.py [--dead 300] [--repeat 7] [--seed 1]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import struct
import time
import zlib

import numpy as np

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design, load_design
from yieldkit.repair import repair_wafer

from firmware_map.image import build_image, parse_image
from firmware_map.signing import generate_key
from firmware_map.verify import check_router, verify_image
from yieldkit.verify import verify_repair_map

TARGET_BUILD_MS = 200.0
TARGET_VERIFY_MS = 100.0
TARGET_BYTES_PER_CORE = 1.0


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """(min, median) wall time [ms] of ``repeat`` calls after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return min(times), float(np.median(times)), result


def naive_encode(repair_map, design) -> bytes:
    """The per-core Python writer an engineer might write first."""
    cols = repair_map.physical_cols
    out = bytearray()
    serving = set()
    for site in repair_map.physical_of_logical.ravel().tolist():
        r, c = divmod(site, cols)
        out += struct.pack("<HH", r, c)
        serving.add(site)
    dead = set(repair_map.defects.dead_sites.tolist())
    for site in range(repair_map.physical_rows * cols):
        out.append((site not in serving) | ((site in dead) << 1))
    out += struct.pack("<I", zlib.crc32(out))
    out += hashlib.sha256(out).digest()
    return bytes(out)


def make_map(dead: int, seed: int):
    design = load_design("wse")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    off = design.logical_row_offset
    rows = np.sort(rng.choice(np.arange(off, off + design.logical_rows), size=dead, replace=False))
    exists = design.site_exists
    cols = np.array([rng.choice(np.flatnonzero(exists[r])) for r in rows], dtype=np.int64)
    defects = DefectMap(design.rows, design.cols, rows * design.cols + cols, spare_row_links(design, 20, rng),
                        design="wse")
    report = repair_wafer(design, defects)
    if not report.repairable:
        raise SystemExit(f"seed {seed}: the planner cannot repair this wafer ({report.repair_map.reason}); "
                         "try another --seed or fewer --dead")
    return design, report.repair_map


def spare_row_links(design: Design, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random S links between existing sites of the spare rows above the logical band (link ids)."""
    off = design.logical_row_offset
    both = design.site_exists[: off - 1] & design.site_exists[1:off]
    r, c = np.nonzero(both)
    pick = rng.choice(r.size, size=min(n, r.size), replace=False)
    return np.sort(2 * (r[pick] * design.cols + c[pick]) + 1).astype(np.int64)


def stages(signed: bytes, design: Design, repeat: int) -> list[tuple[str, float, float]]:
    """(stage, min ms, median ms) of the parts of ``verify_image``, each timed alone, and the rest."""
    image = parse_image(signed)
    parts = [
        ("parse_image (integrity, decode)", timed(lambda: parse_image(signed), repeat)),
        ("router check (recompute, compare)", timed(lambda: check_router(image), repeat)),
        ("repair-map invariants", timed(lambda: verify_repair_map(image.repair_map, design=design), repeat)),
    ]
    whole = timed(lambda: verify_image(signed), repeat)
    # the whole minus the stages; stages timed alone can take longer than inside the whole (noise): then 0
    rest = (max(whole[0] - sum(t[0] for _, t in parts), 0.0), max(whole[1] - sum(t[1] for _, t in parts), 0.0))
    return [(name, t[0], t[1]) for name, t in parts] + [("rest (design check, report)", *rest)]


def rows(quick: bool = False) -> list[dict]:
    """The runner's rows (``python -m benchmarks``): build, verify_image (min and median), bytes per core."""
    from benchmarks.common import row

    design, rm = make_map(300, 1)
    repeat = 3 if quick else 7
    b_min, b_med, image = timed(lambda: build_image(rm, wafer_id="W17", design=design), repeat)
    signed = build_image(rm, wafer_id="W17", design=design, signing_key=generate_key())
    v_min, v_med, report = timed(lambda: verify_image(signed), repeat)
    assert report.ok, report.error_line()
    where = ", ".join(f"{name.split(' (')[0]} {med:.0f}" for name, _, med in stages(signed, design, repeat))
    t0 = time.perf_counter()
    naive_encode(rm, design)
    naive_ms = (time.perf_counter() - t0) * 1e3
    sizes = {s.name: s.length for s in parse_image(image).sections}
    per_core = (sizes["MAP"] + sizes["ROUTER"]) / rm.physical_of_logical.size
    return [
        row("firmware build_image, wse map", b_med, "ms", f"< {TARGET_BUILD_MS:.0f}", b_med < TARGET_BUILD_MS,
            peer=naive_ms, ratio=naive_ms / b_med, note=f"min {b_min:.1f} ms; peer: naive per-core writer"),
        row("firmware verify_image, wse, signed", v_med, "ms", f"< {TARGET_VERIFY_MS:.0f}", v_med < TARGET_VERIFY_MS,
            note=f"min {v_min:.1f} ms, median of {repeat}; median ms by stage: {where}"),
        row("firmware MAP + ROUTER size", per_core, "B/core", f"< {TARGET_BYTES_PER_CORE:.0f}",
            per_core < TARGET_BYTES_PER_CORE),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dead", type=int, default=300, help="dead sites (one per row) [default 300]")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    design, rm = make_map(args.dead, args.seed)
    n_cores = rm.physical_of_logical.size
    print(f"wse: {rm.logical_rows}x{rm.logical_cols} = {n_cores:,} logical cores on "
          f"{rm.physical_rows}x{rm.physical_cols} sites, {rm.defects.n_dead_sites} dead sites, "
          f"{rm.defects.n_dead_links} dead links; numpy {np.__version__}")

    b_min, b_med, image = timed(lambda: build_image(rm, wafer_id="W17", design=design), args.repeat)
    key = generate_key()
    s_min, s_med, signed = timed(lambda: build_image(rm, wafer_id="W17", design=design, signing_key=key), args.repeat)
    p_min, p_med, parsed = timed(lambda: parse_image(image), args.repeat)
    v_min, v_med, report = timed(lambda: verify_image(signed), args.repeat)
    assert report.ok, report.error_line()
    assert np.array_equal(parsed.repair_map.physical_of_logical, rm.physical_of_logical)

    sizes = {s.name: s.length for s in parsed.sections}
    map_router = sizes["MAP"] + sizes["ROUTER"]

    t0 = time.perf_counter()
    naive = naive_encode(rm, design)
    naive_ms = (time.perf_counter() - t0) * 1e3

    def savez() -> bytes:
        buf = io.BytesIO()
        np.savez(buf, physical_of_logical=rm.physical_of_logical, dead_sites=rm.defects.dead_sites,
                 dead_links=rm.defects.dead_links)
        return buf.getvalue()

    z_min, _, npz = timed(savez, args.repeat)
    buf = io.BytesIO()
    t0 = time.perf_counter()
    rm.save(buf)
    npzc_ms = (time.perf_counter() - t0) * 1e3
    npzc = buf.getvalue()

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    print()
    print(f"{'':34s}{'min ms':>9s}{'median ms':>11s}   target")
    print(f"{'build_image':34s}{b_min:9.1f}{b_med:11.1f}   < {TARGET_BUILD_MS:.0f} ms  {verdict(b_med < TARGET_BUILD_MS)}")
    print(f"{'build_image, signed':34s}{s_min:9.1f}{s_med:11.1f}")
    print(f"{'parse_image (decode to RepairMap)':34s}{p_min:9.1f}{p_med:11.1f}")
    print(f"{'verify_image (all checks, signed)':34s}{v_min:9.1f}{v_med:11.1f}   < {TARGET_VERIFY_MS:.0f} ms  {verdict(v_med < TARGET_VERIFY_MS)}")
    print()
    print("where verify_image's time goes (each stage timed alone):")
    for name, t_min, t_med in stages(signed, design, args.repeat):
        print(f"  {name:34s}{t_min:7.1f}{t_med:11.1f}")
    print()
    print("peers (same map, same run):")
    print(f"  naive per-core Python writer    {naive_ms:9.1f} ms   {naive_ms / b_med:6.1f}x slower than build_image, "
          f"{len(naive):,} bytes ({len(naive) / n_cores:.2f} B/core)")
    print(f"  np.savez (uncompressed)         {z_min:9.1f} ms   {len(npz):,} bytes ({len(npz) / n_cores:.2f} B/core), "
          f"{len(npz) / len(image):.1f}x the image")
    print(f"  RepairMap.save (npz, deflate)   {npzc_ms:9.1f} ms   {len(npzc):,} bytes ({len(npzc) / n_cores:.2f} B/core), "
          f"{len(npzc) / len(image):.2f}x the image")
    print()
    print("image size:")
    for name, length in sizes.items():
        print(f"  {name:14s}{length:10,d} bytes  {length / n_cores:.3f} B/core")
    print(f"  {'MAP + ROUTER':14s}{map_router:10,d} bytes  {map_router / n_cores:.3f} B/core   "
          f"< {TARGET_BYTES_PER_CORE:.0f} B/core  {verdict(map_router / n_cores < TARGET_BYTES_PER_CORE)}")
    print(f"  {'whole image':14s}{len(image):10,d} bytes  {len(image) / n_cores:.3f} B/core (signed: {len(signed):,})")


if __name__ == "__main__":
    main()
