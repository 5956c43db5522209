"""The optimised Monte-Carlo engine gives bit-identical results to the exact per-wafer assessor.

The reference is recorded in the same test by forcing the row-shift
assessor onto its exact per-wafer path (``band_failures`` wafer by wafer,
the planner's own rule), on many seeds, designs and defect models (links,
Thomas, radial, large defects). The numba kernels of the batch path are also
compared with their whole-array numpy references on wse batches.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from yieldkit import montecarlo
from yieldkit.defects import DefectModel, sample_batch
from yieldkit.design import load_design
from yieldkit.montecarlo import simulate
from yieldkit.redundancy import row_shift

SMALL = load_design("small")
WSE = load_design("wse")
DESIGNS = {
    "small": SMALL,
    "small-2-spares": SMALL.with_spares_per_row(2),
    "small-reach1": replace(SMALL, scheme_params={"reach": 1}),
}
MODELS = [
    DefectModel(1.0, alpha=2.0),
    DefectModel(2.0),
    DefectModel(1.5, alpha=0.5, link_fraction=0.3),
    DefectModel(1.0, spatial="thomas", cluster_sigma_mm=3.0),
    DefectModel(1.0, spatial="radial", radial_beta=3.0, x0_um=20.0, max_size_um=8000.0),
]


def exact_reference(monkeypatch: pytest.MonkeyPatch, design, model, n, seed):  # noqa: ANN001, ANN201
    montecarlo.clear_prepared()  # no assessor built before the patch
    try:
        with monkeypatch.context() as patch:
            patch.setattr(row_shift, "_regular_band", lambda design: False)  # every wafer takes band_failures
            result = simulate(design, model, n, seed)
            (_, assess), = montecarlo._PREPARED.values()
            assert assess.stats["exact"] == n  # the reference really took the per-wafer path
            return result.to_dict()
    finally:
        montecarlo.clear_prepared()


@pytest.mark.parametrize("name", sorted(DESIGNS))
@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_engine_equals_the_exact_assessor(monkeypatch: pytest.MonkeyPatch, name: str, model: DefectModel) -> None:
    design = DESIGNS[name]
    for seed in (1, 2):
        fast = simulate(design, model, 300, seed).to_dict()
        assert fast == exact_reference(monkeypatch, design, model, 300, seed)


@pytest.mark.parametrize("model", [DefectModel(0.1, alpha=2.0), DefectModel(0.6, alpha=0.5, link_fraction=0.2),
                                   DefectModel(0.3, spatial="thomas")], ids=repr)
def test_kernels_equal_their_numpy_references(model: DefectModel) -> None:
    band = row_shift._Band.of(WSE)
    for seed in range(3):
        batch = sample_batch(WSE, model, 1024, np.random.default_rng(seed))
        fast = row_shift._ShiftGroups.of(band, batch)
        ref = row_shift._ShiftGroups.of_numpy(band, batch)
        for field in ("keys", "wafer", "row", "start", "shift", "breakpoints", "member", "short"):
            assert np.array_equal(getattr(fast, field), getattr(ref, field)), field
        tight = row_shift._Band(band.lr, band.off, band.n, band.cols, band.c0, 0.0, band.spr, band.first,
                                band.nominal_left, band.s0)
        for b in (band, tight):
            got = set(zip(*(a.tolist() for a in row_shift._pair_failures(b, fast))))
            want = set(zip(*(a.tolist() for a in row_shift._pair_failures_numpy(b, ref))))
            assert got == want


def test_routes_kernel_equals_its_numpy_reference() -> None:
    from yieldkit.fabric import LinkPlanes

    rng = np.random.default_rng(3)
    rows, cols = 40, 50
    planes = LinkPlanes.build(rows, cols, exists=rng.random((rows, cols)) > 0.05).with_dead_links(
        rng.choice(2 * rows * cols, 60, replace=False))
    r1 = rng.integers(0, rows - 1, 5000)
    c1 = rng.integers(0, cols - 1, 5000)
    pick = rng.integers(0, 3, 5000)
    r2 = np.where(pick == 1, r1 + 1, np.minimum(r1 + rng.integers(0, 3, 5000), rows - 1))
    c2 = np.where(pick == 0, c1 + 1, np.clip(c1 + rng.integers(-3, 4, 5000), 0, cols - 1))
    assert np.array_equal(planes.routes_ok(r1, c1, r2, c2), planes.routes_ok_numpy(r1, c1, r2, c2))
    assert planes.routes_ok(r1[:6].reshape(2, 3), c1[:6].reshape(2, 3), r2[:6].reshape(2, 3),
                            c2[:6].reshape(2, 3)).shape == (2, 3)
