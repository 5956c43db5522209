"""A simulated wafer under burn-in: runs workloads and corrupts them where the truth says.

:class:`SimulatedWafer` is built from the design, the wafer's defect map, the
mapping currently loaded (a ``RepairMap`` or its ``physical_of_logical``
array) and the :class:`~burnin.truth.FaultTruth`. It is, with a later
evaluation, the only code that reads the truth.

Time and conditions: :meth:`SimulatedWafer.advance` moves wall-clock time by
``hours`` at ``temp_c`` and ``voltage_v`` and ages the wafer by
``hours * AF_T * AF_V`` equivalent hours at the model's reference conditions
(``yieldkit.reliability.acceleration``); workloads then run at those conditions.

What corrupts what (only faults at physical sites serving a logical core
under the loaded mapping matter; a remap moves work off a mapped-out core):

* a dead site or a latent defect past its time to failure flips its
  ``latent_bit`` in every element the core computes (GEMM block, stencil
  tile) and fails its March test;
* a marginal core fires with probability ``min(1, p_ref AF_T AF_V)`` per pass,
  a thermal fault whenever ``temp_c`` reaches its threshold: one element of
  the core's output gets its bit flipped, the March test gets a failing read;
* transient bit flips: ``Poisson(rate * cores * run_hours)`` per pass, a
  uniformly drawn core, element and bit (0..63: low mantissa flips can hide
  below the GEMM rounding bound, as on real hardware);
* faulty links lose or corrupt packets of every route over them (always, or
  per packet with ``link_packet_fail_prob`` when intermittent);
* a register upset flips a bit of the register from its time on, until the
  register is rewritten (a hard upset survives rewrites); loading a mapping
  rewrites all registers. A core-register upset stalls the core (watchdog),
  a router-register upset misroutes every route through that router;
* SRAM faults are simulated by ``burnin.sram`` on the cores in use that have
  them; the March output of every other core is provably empty.

Run-time randomness comes from ``numpy.random.SeedSequence(seed)``: the same
seed and the same sequence of calls give the same outputs bit for bit.
Every injected corruption is appended to :attr:`SimulatedWafer.events`.
"""

from __future__ import annotations

import numpy as np

from burnin.sram import run_march
from burnin.truth import CORRUPT_BITS, FaultTruth
from burnin.workloads.fabric import FabricOutput, link_routes, packet_crc, payload
from burnin.workloads.gemm import gemm_golden
from burnin.workloads.march import MARCH_TESTS, MarchOutput
from burnin.workloads.registers import N_REGISTERS, ROUTER_REGISTER, prescribed_registers
from burnin.workloads.stencil import stencil_golden
from yieldkit.defect_map import DefectMap
from yieldkit.design import Design

__all__ = ["SimulatedWafer"]


class SimulatedWafer:
    """One wafer in the burn-in oven (see module docstring).

    Parameters
    ----------
    design : Design
    defects : DefectMap or None
    mapping : RepairMap or ndarray of int64, shape (logical_rows, logical_cols)
        The image currently loaded.
    truth : FaultTruth
    seed : int or SeedSequence
        Root of the run-time random stream.
    run_hours : float
        Duration of one workload pass, for transient flips [h].

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> from yieldkit.repair import repair_wafer
    >>> from yieldkit.defect_map import DefectMap
    >>> from burnin.fault_model import FaultModel
    >>> from burnin.truth import draw_fault_truth
    >>> from burnin.workloads.stencil import stencil_input, detect_stencil
    >>> d = load_design("small"); defects = DefectMap.empty(d)
    >>> image = repair_wafer(d, defects).repair_map
    >>> truth = draw_fault_truth(d, defects, FaultModel(latent_fraction=0.01, weibull_scale_h=1.0), seed=3)
    >>> wafer = SimulatedWafer(d, defects, image, truth, seed=3)
    >>> wafer.advance(hours=48.0, temp_c=125.0, voltage_v=0.88)
    >>> u = stencil_input(64, 64, 2, np.random.default_rng(0))
    >>> found = detect_stencil(stencil_golden(u), wafer.run_stencil(u, block=2), block=2)
    >>> len(found) > 0
    True

    Every workload, then a remap that maps the failed cores out:

    >>> from burnin.workloads.gemm import gemm_inputs, detect_gemm
    >>> from burnin.workloads.march import detect_march
    >>> from burnin.workloads.fabric import detect_fabric
    >>> from burnin.workloads.registers import register_scan
    >>> from burnin.workloads.watchdog import detect_stalls
    >>> a, b = gemm_inputs(64, 64, 2, 16, np.random.default_rng(1))
    >>> {(f.row, f.col) for f in detect_gemm(a, b, wafer.run_gemm(a, b, 2), 2)} == {(f.row, f.col) for f in found}
    True
    >>> {(f.row, f.col) for f in detect_march(wafer.run_march("march_ss"))} >= {(f.row, f.col) for f in found}
    True
    >>> detect_fabric(wafer.run_fabric(4), wafer.routes), detect_stalls(wafer.run_watchdog(10), 10)
    ([], [])
    >>> register_scan(wafer, wafer.prescribed)
    []
    >>> bad = [int(wafer.physical_of_logical[f.row, f.col]) for f in found]
    >>> wafer.load_mapping(repair_wafer(d, DefectMap(d.rows, d.cols, bad, design=d.name)).repair_map)
    >>> detect_stencil(stencil_golden(u), wafer.run_stencil(u, block=2), block=2)
    []

    References
    ----------
    JEDEC JESD85 (acceleration of the wafer's age); Huang & Abraham (1984),
    van de Goor (1991) for the workloads it answers (see ``burnin.workloads``).
    """

    def __init__(self, design: Design, defects: DefectMap | None, mapping, truth: FaultTruth,
                 seed: int | np.random.SeedSequence = 0, run_hours: float = 0.1) -> None:
        if (truth.rows, truth.cols) != (design.rows, design.cols):
            raise ValueError(f"the truth is for a {truth.rows}x{truth.cols} grid, the design is {design.rows}x{design.cols}")
        self.design = design
        self.defects = defects if defects is not None else DefectMap.empty(design)
        self.truth = truth
        self.model = truth.model
        self.run_hours = float(run_hours)
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self._rng = np.random.default_rng(root)
        self.time_h = 0.0
        self.equivalent_age_h = 0.0
        self.temp_c = self.model.reference_temp_c
        self.voltage_v = self.model.reference_voltage_v
        self.events: list[dict] = []
        self.load_mapping(mapping)

    # -- image and time ----------------------------------------------------------------
    def load_mapping(self, mapping) -> None:
        """Load a new image: which physical core computes each logical position; rewrites all registers."""
        pol = np.asarray(getattr(mapping, "physical_of_logical", mapping), np.int64)
        if pol.ndim != 2 or pol.size == 0 or pol.min() < 0 or pol.max() >= self.design.n_sites:
            raise ValueError("the mapping must be a non-empty 2-D array of physical sites of the design")
        if np.unique(pol).size != pol.size:
            raise ValueError("the mapping sends two logical cores to one physical site")
        self.physical_of_logical = pol
        self.logical_shape = pol.shape
        self._logical_of_site = np.full(self.design.n_sites, -1, np.int64)
        self._logical_of_site[pol.ravel()] = np.arange(pol.size)
        self.routes = link_routes(pol, self.design.cols, self.defects.dead_links)
        self.prescribed = prescribed_registers(pol)
        self._registers = self.prescribed.copy()
        self._last_write_h = np.full(self.truth.register_site.size, self.time_h)
        self._dead_in_use = self._in_use(self.defects.dead_sites)

    def advance(self, hours: float, temp_c: float, voltage_v: float) -> None:
        """Spend ``hours`` [h] at ``temp_c`` [degC] and ``voltage_v`` [V]; later runs use these conditions."""
        if hours < 0:
            raise ValueError("hours must be >= 0")
        self.temp_c, self.voltage_v = float(temp_c), float(voltage_v)
        self.equivalent_age_h += hours * self.model.acceleration(temp_c, voltage_v)
        self.time_h += hours

    def _in_use(self, sites: np.ndarray) -> np.ndarray:
        """Logical flat index of each site (-1 when the site serves no logical core)."""
        return self._logical_of_site[np.asarray(sites, np.int64)] if len(sites) else np.zeros(0, np.int64)

    def _log(self, workload: str, mechanism: str, logical: np.ndarray, sites: np.ndarray) -> None:
        cols = self.logical_shape[1]
        for lg, site in zip(np.asarray(logical).tolist(), np.asarray(sites).tolist()):
            self.events.append({"time_h": self.time_h, "workload": workload, "mechanism": mechanism,
                                "logical": divmod(lg, cols), "site": site})

    # -- core faults -------------------------------------------------------------------
    def _core_faults(self, workload: str):
        """(logical, bit, whole) of every core fault active in this pass; logged."""
        t, rng = self.truth, self._rng
        parts = []
        dead = self._dead_in_use[self._dead_in_use >= 0]
        parts.append((dead, np.full(dead.size, CORRUPT_BITS[1] - 1), True, "dead",
                      self.physical_of_logical.ravel()[dead]))
        failed = t.latent_site[t.latent_ttf_ref_h <= self.equivalent_age_h]
        lg = self._in_use(failed)
        parts.append((lg[lg >= 0], t.latent_bit[t.latent_ttf_ref_h <= self.equivalent_age_h][lg >= 0], True,
                      "latent", failed[lg >= 0]))
        p = min(1.0, self.model.marginal_fail_prob_ref * self.model.acceleration(self.temp_c, self.voltage_v))
        fire = rng.random(t.marginal_site.size) < p
        lg = self._in_use(t.marginal_site[fire])
        parts.append((lg[lg >= 0], t.marginal_bit[fire][lg >= 0], False, "marginal", t.marginal_site[fire][lg >= 0]))
        hot = t.thermal_threshold_c <= self.temp_c
        lg = self._in_use(t.thermal_site[hot])
        parts.append((lg[lg >= 0], t.thermal_bit[hot][lg >= 0], False, "thermal", t.thermal_site[hot][lg >= 0]))
        n_cores = self.physical_of_logical.size
        k = int(rng.poisson(self.model.transient_rate_per_core_hour * n_cores * self.run_hours))
        lg = rng.integers(0, n_cores, k)
        parts.append((lg, rng.integers(0, 64, k), False, "transient", self.physical_of_logical.ravel()[lg]))
        logical, bits, whole = [], [], []
        for lg, bit, is_whole, name, sites in parts:
            self._log(workload, name, lg, sites)
            logical.append(np.asarray(lg, np.int64))
            bits.append(np.asarray(bit, np.int64))
            whole.append(np.full(len(lg), is_whole))
        return np.concatenate(logical), np.concatenate(bits), np.concatenate(whole)

    def _corrupt(self, result: np.ndarray, block: int, workload: str) -> np.ndarray:
        logical, bits, whole = self._core_faults(workload)
        if logical.size == 0:
            return result
        rows, cols = self.logical_shape
        words = result.view(np.uint64).reshape(rows, block, cols, block)
        r, c = np.divmod(logical, cols)
        n_el = np.where(whole, block * block, 1)
        idx = np.repeat(np.arange(logical.size), n_el)
        within = np.arange(idx.size) - np.repeat(np.cumsum(n_el) - n_el, n_el)
        single = self._rng.integers(0, block * block, logical.size)
        flat = np.where(whole[idx], within, single[idx])
        i, j = np.divmod(flat, block)
        masks = np.left_shift(np.uint64(1), bits[idx].astype(np.uint64))
        np.bitwise_xor.at(words, (r[idx], i, c[idx], j), masks)
        return result

    # -- workloads ---------------------------------------------------------------------
    def run_gemm(self, a: np.ndarray, b: np.ndarray, block: int) -> np.ndarray:
        """The ``(R b, C b)`` product the fabric returns (see ``burnin.workloads.gemm``)."""
        rows, cols = self.logical_shape
        if a.shape[0] != rows * block or b.shape[1] != cols * block:
            raise ValueError(f"GEMM inputs must be ({rows * block}, n) and (n, {cols * block})")
        return self._corrupt(np.ascontiguousarray(gemm_golden(a, b)), block, "gemm")

    def run_stencil(self, u: np.ndarray, block: int, weight: float = 0.2) -> np.ndarray:
        """One stencil sweep as the fabric returns it (see ``burnin.workloads.stencil``)."""
        rows, cols = self.logical_shape
        if u.shape != (rows * block, cols * block):
            raise ValueError(f"stencil grid must be ({rows * block}, {cols * block})")
        return self._corrupt(np.ascontiguousarray(stencil_golden(u, weight)), block, "stencil")

    def run_march(self, test: str = "march_c-") -> MarchOutput:
        """Failing reads of a March test on every core's SRAM (see ``burnin.workloads.march``)."""
        elements = MARCH_TESTS[test]
        words, width = self.model.sram_words, self.model.sram_word_bits
        cols = self.logical_shape[1]
        rec: list[tuple] = []
        sram = self.truth.sram
        lg = self._in_use(sram.core)
        use = sram.take(lg >= 0)
        lg = lg[lg >= 0]
        if lg.size:
            order = np.argsort(lg, kind="stable")
            use, lg = use.take(order), lg[order]
            cores, starts = np.unique(lg, return_index=True)
            ends = np.append(starts[1:], lg.size)
            for core, s, e in zip(cores.tolist(), starts.tolist(), ends.tolist()):
                for fail in run_march(elements, words, width, use.take(slice(s, e))):
                    rec.append((core, *fail))
            self._log(test, "sram", cores, self.physical_of_logical.ravel()[cores])
        logical, bits, _ = self._core_faults(test)
        addresses = self._rng.integers(0, words, logical.size)
        for core, bit, address in zip(logical.tolist(), bits.tolist(), addresses.tolist()):
            rec.append((core, 1, 0, address, 0, 1 << (bit % width)))
        rec.sort(key=lambda x: x[0])
        arr = np.array(rec, dtype=np.uint64).reshape(-1, 6)
        r, c = np.divmod(arr[:, 0].astype(np.int64), cols)
        return MarchOutput(test, self.logical_shape, r, c, arr[:, 1].astype(np.int64), arr[:, 2].astype(np.int64),
                           arr[:, 3].astype(np.int64), arr[:, 4], arr[:, 5])

    # -- registers ---------------------------------------------------------------------
    def _active_upsets(self) -> np.ndarray:
        t = self.truth
        return (t.register_time_h <= self.time_h) & (t.register_stuck | (t.register_time_h > self._last_write_h))

    def read_registers(self) -> np.ndarray:
        """Configuration registers of every logical core, shape (R, C, 4), uint32."""
        out = self._registers.copy()
        act = np.flatnonzero(self._active_upsets())
        lg = self._in_use(self.truth.register_site[act])
        keep = lg >= 0
        r, c = np.divmod(lg[keep], self.logical_shape[1])
        masks = np.left_shift(np.uint32(1), self.truth.register_bit[act][keep].astype(np.uint32))
        np.bitwise_xor.at(out, (r, c, self.truth.register_index[act][keep]), masks)
        return out

    def write_registers(self, rows, cols, index, values) -> None:
        """Write registers ``(rows, cols, index)``; clears the soft upsets of those registers."""
        rows, cols, index = (np.asarray(x, np.int64) for x in (rows, cols, index))
        self._registers[rows, cols, index] = np.asarray(values, np.uint32)
        site = self.physical_of_logical[rows, cols]
        t = self.truth
        hit = np.isin(t.register_site * N_REGISTERS + t.register_index, site * N_REGISTERS + index)
        self._last_write_h[hit] = self.time_h

    def _upset_sites(self, router: bool) -> np.ndarray:
        act = self._active_upsets() & ((self.truth.register_index == ROUTER_REGISTER) == router)
        return self.truth.register_site[act]

    def run_watchdog(self, ticks: int = 1000) -> np.ndarray:
        """Heartbeat counters after asking every core to count ``ticks``, shape (R, C)."""
        beat = np.full(self.logical_shape, ticks, np.int64)
        lg = self._in_use(self._upset_sites(router=False))
        lg = np.unique(lg[lg >= 0])
        self._log("watchdog", "register_stall", lg, self.physical_of_logical.ravel()[lg])
        beat.ravel()[lg] = self._rng.integers(0, ticks, lg.size)
        return beat

    # -- fabric ------------------------------------------------------------------------
    def run_fabric(self, n_packets: int = 4) -> FabricOutput:
        """Receiver counters after ``n_packets`` per logical link and direction."""
        t, routes, rng = self.truth, self.routes, self._rng
        n = routes.links.size
        received = np.full((n, 2), n_packets, np.int64)
        crc_errors = np.zeros((n, 2), np.int64)
        missing = np.zeros((n, 2), np.int64)
        misroute_sites = self._upset_sites(router=True)
        by_link = routes.routes_using_links(t.link_id)
        by_router = routes.routes_touching_sites(misroute_sites)
        fault_of = {int(k): i for i, k in enumerate(t.link_id.tolist())}
        misrouted_routes = set(by_router.tolist())
        for i in np.union1d(by_link, by_router).tolist():
            path = routes.route(i)
            faults = [fault_of[p] for p in path.tolist() if p in fault_of]
            misrouted = i in misrouted_routes
            for d in (0, 1):
                seen, got, bad = set(), 0, 0
                for s in range(n_packets):
                    data = payload(int(routes.links[i]), d, s)
                    crc, lost = packet_crc(data), misrouted
                    for f in faults:
                        if lost:
                            break
                        if t.link_intermittent[f] and rng.random() >= self.model.link_packet_fail_prob:
                            continue
                        if t.link_corrupt[f]:
                            data ^= 1 << int(rng.integers(0, 64))
                        else:
                            lost = True
                    if lost:
                        continue
                    got += 1
                    seen.add(s)
                    bad += packet_crc(data) != crc
                received[i, d], crc_errors[i, d], missing[i, d] = got, bad, n_packets - len(seen)
            if (received[i] < n_packets).any() or crc_errors[i].any():
                a = path // 2
                self._log("fabric", "misroute" if misrouted else "link", [int(routes.links[i]) // 2], [int(a[0])])
        return FabricOutput(n_packets, routes.links, received, crc_errors, missing)
