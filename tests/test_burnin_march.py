"""March C- / March SS coverage of the classical SRAM fault models on a tiny memory."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from burnin.sram import SramFaultKind as K
from burnin.sram import SramFaults, run_march
from burnin.workloads.march import MARCH_C_MINUS, MARCH_SS, MarchOutput, detect_march

WORDS, WIDTH = 6, 2


def _all_placements(kind: K):
    """Every placement of one fault of ``kind`` on a WORDS x WIDTH memory."""
    cells = list(itertools.product(range(WORDS), range(WIDTH)))
    if kind in (K.SAF,):
        for (a, b), v in itertools.product(cells, (0, 1)):
            yield SramFaults.single(kind, a, b, value=v)
    elif kind == K.TF:
        for (a, b), d in itertools.product(cells, (0, 1)):
            yield SramFaults.single(kind, a, b, direction=d)
    elif kind in (K.RDF, K.DRDF):
        for a, b in cells:
            yield SramFaults.single(kind, a, b)
    elif kind in (K.CFIN, K.CFID):
        values = (0, 1) if kind == K.CFID else (0,)
        for (a, b), (aa, ab), d, v in itertools.product(cells, cells, (0, 1), values):
            if aa != a:  # inter-word coupling
                yield SramFaults.single(kind, a, b, aggressor_address=aa, aggressor_bit=ab, direction=d, value=v)
    else:  # address decoder
        for a, aa in itertools.product(range(WORDS), range(WORDS)):
            if a != aa:
                yield SramFaults.single(kind, a, aggressor_address=aa)


@pytest.mark.parametrize("kind", [K.SAF, K.TF, K.CFIN, K.CFID, K.AF_ALIAS, K.AF_MULTI, K.RDF])
def test_march_c_minus_detects_every_classical_fault(kind: K) -> None:
    placements = list(_all_placements(kind))
    assert placements
    missed = [f for f in placements if not run_march(MARCH_C_MINUS, WORDS, WIDTH, f, restrict=False)]
    assert missed == []


def test_march_c_minus_misses_deceptive_read_destructive_faults_and_march_ss_catches_them() -> None:
    placements = list(_all_placements(K.DRDF))
    assert all(not run_march(MARCH_C_MINUS, WORDS, WIDTH, f) for f in placements)
    assert all(run_march(MARCH_SS, WORDS, WIDTH, f) for f in placements)


@pytest.mark.parametrize("kind", list(K))
def test_march_ss_detects_every_fault_model(kind: K) -> None:
    assert all(run_march(MARCH_SS, WORDS, WIDTH, f) for f in _all_placements(kind))


@pytest.mark.parametrize("test", [MARCH_C_MINUS, MARCH_SS])
def test_skipping_uninvolved_addresses_gives_exactly_the_full_run(test) -> None:
    rng = np.random.default_rng(np.random.SeedSequence(11))
    for _ in range(200):  # random multi-fault memories
        n = int(rng.integers(1, 4))
        kinds = rng.integers(0, len(K), n)
        faults = SramFaults(np.zeros(n, np.int64), kinds, rng.integers(0, WORDS, n), rng.integers(0, WIDTH, n),
                            rng.integers(0, WORDS, n), rng.integers(0, WIDTH, n), rng.integers(0, 2, n),
                            rng.integers(0, 2, n))
        keep = ~(np.isin(kinds, [K.CFIN, K.CFID, K.AF_ALIAS, K.AF_MULTI]) & (faults.address == faults.aggressor_address))
        faults = faults.take(keep)
        assert run_march(test, WORDS, WIDTH, faults, restrict=True) == run_march(test, WORDS, WIDTH, faults,
                                                                               restrict=False)


def test_a_fault_free_memory_passes() -> None:
    assert run_march(MARCH_SS, 64, 32, SramFaults.empty(), restrict=False) == []


def test_detect_march_reports_one_finding_per_failing_core() -> None:
    rows = np.array([1, 1, 3], np.int64)
    cols = np.array([2, 2, 0], np.int64)
    z = np.zeros(3, np.int64)
    out = MarchOutput("march_c-", (4, 4), rows, cols, z, z, z, z.astype(np.uint64), (z + 1).astype(np.uint64))
    found = detect_march(out)
    assert sorted((f.row, f.col) for f in found) == [(1, 2), (3, 0)]
    assert {(f.row, f.col): f.evidence["failing_reads"] for f in found} == {(1, 2): 2, (3, 0): 1}
