"""The yieldkit database schema: SQLAlchemy 2.0 typed declarative models.

Every table, constraint and index is declared here; Alembic migrations in
``db/migrations/versions`` must agree with it (a test runs the autogenerate
comparison). Conventions:

* every constraint is named through ``Base.metadata.naming_convention`` so
  migrations can address it on SQLite (batch mode) and PostgreSQL alike;
* enumerations (wafer state, fault class) are stored as their lower-case
  string values in a VARCHAR with a CHECK constraint, never as a native enum;
* sparse per-core data (dead sites, dead links, cores mapped out, the repair
  mapping) is stored as a compact blob of little-endian int64 flat indices
  (``site = row * cols + col``, ``link = 2 * site + direction``, the
  conventions of :mod:`yieldkit.defect_map`); see :func:`encode_ids`;
* times in burn-in are hours (``time_h``), temperatures degrees Celsius
  (``temperature_c``), voltages volts (``voltage_v``).
"""

from __future__ import annotations

import datetime as dt
import enum

import numpy as np
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from yieldkit.faults import FaultClass

__all__ = [
    "Base",
    "WaferState",
    "FaultClass",
    "Lot",
    "Wafer",
    "DefectMapRecord",
    "RepairMapRecord",
    "FabricImageRecord",
    "Campaign",
    "Run",
    "WorkloadExecution",
    "FaultEvent",
    "RemapAction",
    "encode_ids",
    "decode_ids",
    "TABLES",
    "one_of",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Integer primary key that is 64-bit on PostgreSQL and SQLite's rowid alias on SQLite.
BigPK = BigInteger().with_variant(Integer(), "sqlite")


def _now_default():
    return func.current_timestamp()


class Base(DeclarativeBase):
    """Declarative base carrying the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WaferState(str, enum.Enum):
    """Life-cycle state of a wafer."""

    FABRICATED = "fabricated"
    """Out of the fab, inspected, not yet repaired."""
    REPAIRED = "repaired"
    """A repair map and a fabric image exist; ready for burn-in."""
    IN_BURN_IN = "in_burn_in"
    """On a burn-in station (stress runs, remaps)."""
    SHIPPED = "shipped"
    """Passed burn-in with the standard fabric and left the factory."""
    ENGINEERING_PART = "engineering_part"
    """Past the redundancy budget: usable with a smaller logical grid."""
    SCRAPPED = "scrapped"
    """Not usable."""

    def __str__(self) -> str:
        return self.value


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_cls]


def _str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR holding ``enum_cls`` values (no native enum); its CHECK is :func:`one_of`."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        values_callable=_values,
        length=max(len(v) for v in _values(enum_cls)),
        validate_strings=True,
    )


def one_of(column: str, enum_cls: type[enum.Enum]) -> str:
    """CHECK expression: ``column`` holds one of ``enum_cls``'s values.

    Spelled as an OR chain, not ``IN (...)``: SQLite evaluates an ``IN``
    list inside a CHECK by building a temporary table for every row, which
    made fault-event inserts about 3x slower (measured: 0.3 vs 1.2 million
    rows/s on a bare table).
    """
    return " OR ".join(f"{column} = '{value}'" for value in _values(enum_cls))


def encode_ids(ids) -> bytes:
    """Pack integer ids (sites, links) as little-endian int64 bytes."""
    return np.ascontiguousarray(np.asarray(ids, dtype="<i8").ravel()).tobytes()


def decode_ids(blob: bytes | None) -> np.ndarray:
    """Inverse of :func:`encode_ids`: an int64 array (empty for ``None``)."""
    if not blob:
        return np.zeros(0, np.int64)
    return np.frombuffer(bytes(blob), dtype="<i8").astype(np.int64)


class Lot(Base):
    """A fabrication lot of wafers."""

    __tablename__ = "lots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now_default())
    notes: Mapped[str | None] = mapped_column(Text)
    params: Mapped[str | None] = mapped_column(Text)  # JSON: how the lot was made (design, d0, alpha, seed, ...)

    wafers: Mapped[list["Wafer"]] = relationship(back_populates="lot")


class Wafer(Base):
    """One wafer = one wafer-scale processor."""

    __tablename__ = "wafers"
    __table_args__ = (
        Index(None, "lot_id", "state"),
        CheckConstraint(one_of("state", WaferState), name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="RESTRICT"))
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    design: Mapped[str] = mapped_column(String(64))
    state: Mapped[WaferState] = mapped_column(
        _str_enum(WaferState, "state"), default=WaferState.FABRICATED, server_default=WaferState.FABRICATED.value
    )
    seed: Mapped[int | None] = mapped_column(BigInteger)  # the wafer's seed (defects, simulated hardware)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now_default())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now_default())

    lot: Mapped[Lot] = relationship(back_populates="wafers")


class DefectMapRecord(Base):
    """A wafer's defect map: summary counts plus the sparse map as int64 blobs."""

    __tablename__ = "defect_maps"
    __table_args__ = (
        CheckConstraint("rows > 0 AND cols > 0", name="grid_positive"),
        CheckConstraint("n_dead_sites >= 0 AND n_dead_links >= 0", name="counts_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wafer_id: Mapped[int] = mapped_column(ForeignKey("wafers.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(32))  # inspection, burn_in, simulated, repair
    design: Mapped[str] = mapped_column(String(64), server_default="")  # DefectMap.design
    rows: Mapped[int] = mapped_column(Integer)
    cols: Mapped[int] = mapped_column(Integer)
    n_dead_sites: Mapped[int] = mapped_column(Integer)
    n_dead_links: Mapped[int] = mapped_column(Integer)
    dead_sites: Mapped[bytes] = mapped_column(LargeBinary)  # encode_ids(flat site indices)
    dead_links: Mapped[bytes] = mapped_column(LargeBinary)  # encode_ids(link ids)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now_default())


class RepairMapRecord(Base):
    """A repair map: logical (r, c) -> physical site, for one defect map.

    Holds every field of :class:`yieldkit.repair_map.RepairMap`; its defects
    are the linked defect map (``defect_map_id``).
    """

    __tablename__ = "repair_maps"
    __table_args__ = (
        CheckConstraint(
            "logical_rows > 0 AND logical_cols > 0 AND physical_rows > 0 AND physical_cols > 0",
            name="grid_positive",
        ),
        CheckConstraint(
            "logical_rows <= physical_rows AND logical_cols <= physical_cols", name="logical_fits"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wafer_id: Mapped[int] = mapped_column(ForeignKey("wafers.id", ondelete="CASCADE"), index=True)
    defect_map_id: Mapped[int | None] = mapped_column(ForeignKey("defect_maps.id", ondelete="SET NULL"))
    scheme: Mapped[str] = mapped_column(String(64))
    scheme_params: Mapped[str] = mapped_column(Text, server_default="{}")  # JSON object
    design: Mapped[str] = mapped_column(String(64), server_default="")
    design_fingerprint: Mapped[str] = mapped_column(String(64), server_default="")  # hex SHA-256, "" unknown
    algorithm: Mapped[str] = mapped_column(String(64), server_default="")
    logical_rows: Mapped[int] = mapped_column(Integer)
    logical_cols: Mapped[int] = mapped_column(Integer)
    physical_rows: Mapped[int] = mapped_column(Integer)
    physical_cols: Mapped[int] = mapped_column(Integer)
    full_fabric: Mapped[bool] = mapped_column(Boolean(create_constraint=True, name="full_fabric"))
    reason: Mapped[str | None] = mapped_column(Text)  # why a degraded grid, if not full
    mapping: Mapped[bytes | None] = mapped_column(LargeBinary)  # encode_ids(physical site per logical r*c)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now_default())


class FabricImageRecord(Base):
    """A firmware fabric image: its hash, format version, size, and the bytes or a path."""

    __tablename__ = "fabric_images"
    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="size_nonnegative"),
        CheckConstraint("format_version > 0", name="version_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        CheckConstraint("blob IS NOT NULL OR path IS NOT NULL", name="blob_or_path"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wafer_id: Mapped[int] = mapped_column(ForeignKey("wafers.id", ondelete="CASCADE"), index=True)
    repair_map_id: Mapped[int | None] = mapped_column(ForeignKey("repair_maps.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("fabric_images.id", ondelete="SET NULL"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # hex digest of the image bytes
    format_version: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now_default())


class Campaign(Base):
    """A burn-in campaign: a named stress programme grouping runs."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(BigInteger)  # SeedSequence entropy, if simulated
    params: Mapped[str | None] = mapped_column(Text)  # JSON: stress conditions and schedule of the campaign
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now_default())


class Run(Base):
    """One burn-in run: one wafer on one station under fixed stress conditions.

    ``start_h`` is the wafer's cumulative burn-in time [h] when the run began;
    ``hours`` is the run's stress duration [h]. ``step`` numbers the runs of
    one wafer in one campaign (a campaign logs one run per scan interval);
    ``(campaign_id, wafer_id, step)`` is unique, so a resumed campaign can
    never log a step twice.
    """

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("campaign_id", "wafer_id", "step"),
        CheckConstraint("hours >= 0", name="hours_nonnegative"),
        CheckConstraint("start_h >= 0", name="start_nonnegative"),
        CheckConstraint("voltage_v > 0", name="voltage_positive"),
        CheckConstraint("temperature_c > -273.15", name="temperature_physical"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="RESTRICT"), index=True)
    wafer_id: Mapped[int] = mapped_column(ForeignKey("wafers.id", ondelete="RESTRICT"), index=True)
    fabric_image_id: Mapped[int | None] = mapped_column(ForeignKey("fabric_images.id", ondelete="SET NULL"))
    station: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(64))
    temperature_c: Mapped[float] = mapped_column(Float)
    voltage_v: Mapped[float] = mapped_column(Float)
    hours: Mapped[float] = mapped_column(Float)
    start_h: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    step: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now_default())
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WorkloadExecution(Base):
    """One stress workload executed during a run (``seq`` orders them within the run)."""

    __tablename__ = "workload_executions"
    __table_args__ = (
        UniqueConstraint("run_id", "seq"),
        CheckConstraint("start_h >= 0", name="start_nonnegative"),
        CheckConstraint("end_h IS NULL OR end_h >= start_h", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    workload: Mapped[str] = mapped_column(String(64))
    start_h: Mapped[float] = mapped_column(Float)
    end_h: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean(create_constraint=True, name="passed"))
    params: Mapped[str | None] = mapped_column(Text)  # JSON text


class FaultEvent(Base):
    """One detected fault during burn-in: the high-volume table.

    The natural key ``(run_id, seq)`` (``seq`` is the event's sequence number
    within its run) makes writes idempotent: replaying a batch inserts nothing.
    The location is a physical core ``(core_row, core_col)`` or a fabric
    ``link_id``, exactly one of the two. ``time_h`` is the wafer's cumulative
    burn-in time at detection [h].
    """

    __tablename__ = "fault_events"
    __table_args__ = (
        UniqueConstraint("run_id", "seq"),
        CheckConstraint(one_of("fault_class", FaultClass), name="fault_class"),
        CheckConstraint("time_h >= 0", name="time_nonnegative"),
        CheckConstraint("seq >= 0", name="seq_nonnegative"),
        CheckConstraint(
            "(core_row IS NOT NULL AND core_col IS NOT NULL AND link_id IS NULL)"
            " OR (core_row IS NULL AND core_col IS NULL AND link_id IS NOT NULL)",
            name="core_xor_link",
        ),
        CheckConstraint("core_row IS NULL OR (core_row >= 0 AND core_col >= 0)", name="core_nonnegative"),
        CheckConstraint("link_id IS NULL OR link_id >= 0", name="link_nonnegative"),
        # Covering index for the Pareto: GROUP BY fault_class is an index-only scan. Keyed on the
        # class alone (plus the rowid), inserts append to one of a few hot pages, so it costs
        # writes little; a (fault_class, time_h) index would take random-page inserts.
        Index(None, "fault_class"),
    )

    id: Mapped[int] = mapped_column(BigPK, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    time_h: Mapped[float] = mapped_column(Float)
    core_row: Mapped[int | None] = mapped_column(Integer)
    core_col: Mapped[int | None] = mapped_column(Integer)
    link_id: Mapped[int | None] = mapped_column(BigInteger)
    fault_class: Mapped[FaultClass] = mapped_column(_str_enum(FaultClass, "fault_class"))
    workload: Mapped[str | None] = mapped_column(String(64))
    detection: Mapped[str] = mapped_column(String(32))  # e.g. checksum, watchdog, ecc, scan
    temperature_c: Mapped[float | None] = mapped_column(Float)
    voltage_v: Mapped[float | None] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(32))  # e.g. none, retry, map_out, remap_link


class RemapAction(Base):
    """A remap: cores (and links) mapped out, old image -> new image."""

    __tablename__ = "remap_actions"
    __table_args__ = (
        CheckConstraint("n_cores_mapped_out >= 0 AND n_links_mapped_out >= 0", name="counts_nonnegative"),
        CheckConstraint("old_image_id IS NULL OR old_image_id <> new_image_id", name="image_changes"),
        CheckConstraint("at_h >= 0", name="time_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wafer_id: Mapped[int] = mapped_column(ForeignKey("wafers.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    old_image_id: Mapped[int | None] = mapped_column(ForeignKey("fabric_images.id", ondelete="RESTRICT"))
    new_image_id: Mapped[int] = mapped_column(ForeignKey("fabric_images.id", ondelete="RESTRICT"))
    at_h: Mapped[float] = mapped_column(Float)  # wafer's cumulative burn-in time [h]
    n_cores_mapped_out: Mapped[int] = mapped_column(Integer)
    n_links_mapped_out: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cores_mapped_out: Mapped[bytes] = mapped_column(LargeBinary)  # encode_ids(flat site indices)
    links_mapped_out: Mapped[bytes | None] = mapped_column(LargeBinary)  # encode_ids(link ids)
    reason: Mapped[str | None] = mapped_column(Text)
    cores_moved: Mapped[int | None] = mapped_column(Integer)  # logical cores whose physical site changed
    method: Mapped[str | None] = mapped_column(String(32))  # local, replan, manual ...
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now_default())


#: Exportable tables by name, in dependency order.
TABLES = {t.name: t for t in Base.metadata.sorted_tables}
