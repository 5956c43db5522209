"""The fault taxonomy: one enum, one source of truth.

Used by ``burnin`` (classification), ``db`` (stored as its string value under
a CHECK constraint) and reports. Values are lower-case snake strings and are
stored as-is, so renaming a *value* is a schema migration; adding a member is
one too (the CHECK constraint lists the values).
"""

from __future__ import annotations

import enum

__all__ = ["FaultClass"]


class FaultClass(str, enum.Enum):
    """Class of a fault seen on a wafer-scale processor during burn-in."""

    PERMANENT_CORE = "permanent_core"
    """A core that fails every time it is exercised (hard defect, stuck-at)."""

    MARGINAL_CORE = "marginal_core"
    """A marginal or intermittent core: fails only sometimes, or only under
    stress (voltage, temperature, frequency corners)."""

    TRANSIENT_BIT_FLIP = "transient_bit_flip"
    """A single-event upset in logic or registers that does not recur on retry."""

    LINK_PACKET_LOSS = "link_packet_loss"
    """Packets lost or corrupted on a fabric link between two neighbouring cores."""

    CONTROL_REGISTER_UPSET = "control_register_upset"
    """A corrupted control/configuration register that stalls a core or router."""

    THERMAL = "thermal"
    """A failure caused by local over-temperature (hot spot, throttling trip)."""

    SRAM = "sram"
    """An error in a core's local SRAM (ECC-uncorrectable or repeated correctable)."""

    def __str__(self) -> str:  # the value, not "FaultClass.SRAM"
        return self.value

    @classmethod
    def values(cls) -> list[str]:
        """All stored string values, in declaration order."""
        return [member.value for member in cls]
