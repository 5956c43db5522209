"""Classification of suspects from their re-tests: a fault class and the action taken.

Every finding of a scan is a *suspect*; the harness re-tests it and these
pure rules turn the outcomes into a :class:`~yieldkit.faults.FaultClass` and
an action. Re-tests (``burnin.scan``): ``repeats`` passes of the workload
that saw it at the campaign conditions; if none fails, ``repeats`` passes at
raised stress (+10 degC, +5 % voltage); if all fail, ``repeats`` passes at a
relaxed temperature (85 degC, below the thermal thresholds of the model).

Core suspects (compute workloads GEMM/stencil, or the March SRAM test):

=================================================  ======================  ===============================
re-test outcome                                    class                   action
=================================================  ======================  ===============================
fails every repeat, also every relaxed repeat      ``permanent_core``      ``map_out_core``
  (same, seen by March only, compute passes)       ``sram``                ``repair_sram`` if the design
                                                                           has SRAM spare rows, else
                                                                           ``map_out_core``
fails every repeat, passes every relaxed repeat    ``thermal``             ``map_out_core``
fails some repeats, or some relaxed repeats        ``marginal_core``       ``map_out_core``
passes every repeat, fails at raised stress        ``marginal_core``       ``map_out_core``
passes everything                                  ``transient_bit_flip``  ``retry``
=================================================  ======================  ===============================

Register findings (read-back differs from the prescribed value): the scan
rewrites the register; if the read-back then matches it is a soft upset
(``control_register_upset``, ``rewrite_registers``), else a hard one
(``control_register_upset``, ``map_out_core``). A watchdog stall still
present after the rewrite is a hard upset (``map_out_core``); one cleared by
the rewrite is the register event already logged; one that clears without a
register finding is ``transient_bit_flip`` (``retry``).

Link findings (fabric traffic): re-sent ``repeats`` times after the register
scan; failing again in any repeat is ``link_packet_loss`` (``disable_link``:
the suspected physical links are mapped out); never again is
``transient_bit_flip`` (``retry``), or nothing when a router register
rewrite on the route explains it.
"""

from __future__ import annotations

from collections.abc import Sequence

from yieldkit.faults import FaultClass

__all__ = ["MAP_OUT_CORE", "DISABLE_LINK", "REWRITE_REGISTERS", "REPAIR_SRAM", "RETRY", "NONE", "ACTIONS",
           "classify_core", "classify_link", "classify_register", "MAP_OUT_ACTIONS"]

MAP_OUT_CORE = "map_out_core"
DISABLE_LINK = "disable_link"
REWRITE_REGISTERS = "rewrite_registers"
REPAIR_SRAM = "repair_sram"
RETRY = "retry"
NONE = "none"
ACTIONS = (MAP_OUT_CORE, DISABLE_LINK, REWRITE_REGISTERS, REPAIR_SRAM, RETRY, NONE)
MAP_OUT_ACTIONS = (MAP_OUT_CORE, DISABLE_LINK)


def classify_core(nominal: Sequence[bool], raised: Sequence[bool] = (), relaxed: Sequence[bool] = (),
                  compute: bool = True, sram_spare_rows: int = 0) -> tuple[FaultClass, str]:
    """Class and action of a core suspect from its re-test failures (True = failed).

    Examples
    --------
    >>> classify_core([True, True, True], relaxed=[True, True, True])
    (<FaultClass.PERMANENT_CORE: 'permanent_core'>, 'map_out_core')
    >>> classify_core([True, True, True], relaxed=[False, False, False])[0].value
    'thermal'
    >>> classify_core([True, False, True])[0].value
    'marginal_core'
    >>> classify_core([False] * 3, raised=[False] * 3)
    (<FaultClass.TRANSIENT_BIT_FLIP: 'transient_bit_flip'>, 'retry')
    >>> classify_core([True] * 3, relaxed=[True] * 3, compute=False, sram_spare_rows=2)
    (<FaultClass.SRAM: 'sram'>, 'repair_sram')
    """
    if all(nominal) and nominal:
        if relaxed and not any(relaxed):
            return FaultClass.THERMAL, MAP_OUT_CORE
        if relaxed and not all(relaxed):
            return FaultClass.MARGINAL_CORE, MAP_OUT_CORE
        if not compute:
            return FaultClass.SRAM, REPAIR_SRAM if sram_spare_rows > 0 else MAP_OUT_CORE
        return FaultClass.PERMANENT_CORE, MAP_OUT_CORE
    if any(nominal):
        return FaultClass.MARGINAL_CORE, MAP_OUT_CORE
    if any(raised):
        return FaultClass.MARGINAL_CORE, MAP_OUT_CORE
    return FaultClass.TRANSIENT_BIT_FLIP, RETRY


def classify_link(repeats: Sequence[bool], explained_by_register: bool = False) -> tuple[FaultClass, str] | None:
    """Class and action of a link suspect from its re-sends (True = failed); None = nothing to log.

    Examples
    --------
    >>> classify_link([False, True, False])
    (<FaultClass.LINK_PACKET_LOSS: 'link_packet_loss'>, 'disable_link')
    >>> classify_link([False] * 3, explained_by_register=True) is None
    True
    """
    if any(repeats):
        return FaultClass.LINK_PACKET_LOSS, DISABLE_LINK
    if explained_by_register:
        return None
    return FaultClass.TRANSIENT_BIT_FLIP, RETRY


def classify_register(verified: bool) -> tuple[FaultClass, str]:
    """Class and action of a register mismatch: rewritten and read back correctly or not.

    Examples
    --------
    >>> classify_register(True)[1], classify_register(False)[1]
    ('rewrite_registers', 'map_out_core')
    """
    return FaultClass.CONTROL_REGISTER_UPSET, REWRITE_REGISTERS if verified else MAP_OUT_CORE
