"""Initial schema: lots, wafers, maps, images, burn-in campaigns/runs, fault events, remaps.

Self-contained: enum CHECK constraints are spelled out here (not derived from
the live ``yieldkit.faults.FaultClass``), so this revision means the same
thing forever. Adding a fault class is a new revision that replaces
``ck_fault_events_fault_class``.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 02:35:05.632052

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FAULT_CLASSES = ('permanent_core', 'marginal_core', 'transient_bit_flip', 'link_packet_loss',
                 'control_register_upset', 'thermal', 'sram')
WAFER_STATES = ('fabricated', 'repaired', 'in_burn_in', 'shipped', 'engineering_part', 'scrapped')


def one_of(column: str, values: Sequence[str]) -> str:
    """CHECK expression as an OR chain (SQLite builds a temp table per row for IN lists)."""
    return " OR ".join(f"{column} = '{value}'" for value in values)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('seed', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_campaigns_name'))
    )
    op.create_table('lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lots')),
    sa.UniqueConstraint('name', name=op.f('uq_lots_name'))
    )
    op.create_table('wafers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('design', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='fabricated', nullable=False),
    sa.CheckConstraint(one_of('state', WAFER_STATES), name=op.f('ck_wafers_state')),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_wafers_lot_id_lots'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wafers')),
    sa.UniqueConstraint('serial', name=op.f('uq_wafers_serial'))
    )
    with op.batch_alter_table('wafers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wafers_lot_id_state'), ['lot_id', 'state'], unique=False)

    op.create_table('defect_maps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wafer_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('cols', sa.Integer(), nullable=False),
    sa.Column('n_dead_sites', sa.Integer(), nullable=False),
    sa.Column('n_dead_links', sa.Integer(), nullable=False),
    sa.Column('dead_sites', sa.LargeBinary(), nullable=False),
    sa.Column('dead_links', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('n_dead_sites >= 0 AND n_dead_links >= 0', name=op.f('ck_defect_maps_counts_nonnegative')),
    sa.CheckConstraint('rows > 0 AND cols > 0', name=op.f('ck_defect_maps_grid_positive')),
    sa.ForeignKeyConstraint(['wafer_id'], ['wafers.id'], name=op.f('fk_defect_maps_wafer_id_wafers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_defect_maps'))
    )
    with op.batch_alter_table('defect_maps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_defect_maps_wafer_id'), ['wafer_id'], unique=False)

    op.create_table('repair_maps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wafer_id', sa.Integer(), nullable=False),
    sa.Column('defect_map_id', sa.Integer(), nullable=True),
    sa.Column('scheme', sa.String(length=64), nullable=False),
    sa.Column('logical_rows', sa.Integer(), nullable=False),
    sa.Column('logical_cols', sa.Integer(), nullable=False),
    sa.Column('physical_rows', sa.Integer(), nullable=False),
    sa.Column('physical_cols', sa.Integer(), nullable=False),
    sa.Column('full_fabric', sa.Boolean(create_constraint=True, name=op.f('ck_repair_maps_full_fabric')), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('mapping', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('logical_rows <= physical_rows AND logical_cols <= physical_cols', name=op.f('ck_repair_maps_logical_fits')),
    sa.CheckConstraint('logical_rows > 0 AND logical_cols > 0 AND physical_rows > 0 AND physical_cols > 0', name=op.f('ck_repair_maps_grid_positive')),
    sa.ForeignKeyConstraint(['defect_map_id'], ['defect_maps.id'], name=op.f('fk_repair_maps_defect_map_id_defect_maps'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wafer_id'], ['wafers.id'], name=op.f('fk_repair_maps_wafer_id_wafers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repair_maps'))
    )
    with op.batch_alter_table('repair_maps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_maps_wafer_id'), ['wafer_id'], unique=False)

    op.create_table('fabric_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wafer_id', sa.Integer(), nullable=False),
    sa.Column('repair_map_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format_version', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('blob IS NOT NULL OR path IS NOT NULL', name=op.f('ck_fabric_images_blob_or_path')),
    sa.CheckConstraint('format_version > 0', name=op.f('ck_fabric_images_version_positive')),
    sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_fabric_images_sha256_length')),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_fabric_images_size_nonnegative')),
    sa.ForeignKeyConstraint(['parent_id'], ['fabric_images.id'], name=op.f('fk_fabric_images_parent_id_fabric_images'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['repair_map_id'], ['repair_maps.id'], name=op.f('fk_fabric_images_repair_map_id_repair_maps'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wafer_id'], ['wafers.id'], name=op.f('fk_fabric_images_wafer_id_wafers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fabric_images')),
    sa.UniqueConstraint('sha256', name=op.f('uq_fabric_images_sha256'))
    )
    with op.batch_alter_table('fabric_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fabric_images_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fabric_images_wafer_id'), ['wafer_id'], unique=False)

    op.create_table('runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('wafer_id', sa.Integer(), nullable=False),
    sa.Column('fabric_image_id', sa.Integer(), nullable=True),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=False),
    sa.Column('temperature_c', sa.Float(), nullable=False),
    sa.Column('voltage_v', sa.Float(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('start_h', sa.Float(), server_default='0', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('hours >= 0', name=op.f('ck_runs_hours_nonnegative')),
    sa.CheckConstraint('start_h >= 0', name=op.f('ck_runs_start_nonnegative')),
    sa.CheckConstraint('temperature_c > -273.15', name=op.f('ck_runs_temperature_physical')),
    sa.CheckConstraint('voltage_v > 0', name=op.f('ck_runs_voltage_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_runs_campaign_id_campaigns'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['fabric_image_id'], ['fabric_images.id'], name=op.f('fk_runs_fabric_image_id_fabric_images'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wafer_id'], ['wafers.id'], name=op.f('fk_runs_wafer_id_wafers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs'))
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runs_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_runs_wafer_id'), ['wafer_id'], unique=False)

    op.create_table('fault_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('time_h', sa.Float(), nullable=False),
    sa.Column('core_row', sa.Integer(), nullable=True),
    sa.Column('core_col', sa.Integer(), nullable=True),
    sa.Column('link_id', sa.BigInteger(), nullable=True),
    sa.Column('fault_class', sa.String(length=22), nullable=False),
    sa.CheckConstraint(one_of('fault_class', FAULT_CLASSES), name=op.f('ck_fault_events_fault_class')),
    sa.Column('workload', sa.String(length=64), nullable=True),
    sa.Column('detection', sa.String(length=32), nullable=False),
    sa.Column('temperature_c', sa.Float(), nullable=True),
    sa.Column('voltage_v', sa.Float(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.CheckConstraint('(core_row IS NOT NULL AND core_col IS NOT NULL AND link_id IS NULL) OR (core_row IS NULL AND core_col IS NULL AND link_id IS NOT NULL)', name=op.f('ck_fault_events_core_xor_link')),
    sa.CheckConstraint('core_row IS NULL OR (core_row >= 0 AND core_col >= 0)', name=op.f('ck_fault_events_core_nonnegative')),
    sa.CheckConstraint('link_id IS NULL OR link_id >= 0', name=op.f('ck_fault_events_link_nonnegative')),
    sa.CheckConstraint('seq >= 0', name=op.f('ck_fault_events_seq_nonnegative')),
    sa.CheckConstraint('time_h >= 0', name=op.f('ck_fault_events_time_nonnegative')),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_fault_events_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fault_events')),
    sa.UniqueConstraint('run_id', 'seq', name=op.f('uq_fault_events_run_id_seq'))
    )
    with op.batch_alter_table('fault_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fault_events_fault_class'), ['fault_class'], unique=False)

    op.create_table('remap_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wafer_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('old_image_id', sa.Integer(), nullable=True),
    sa.Column('new_image_id', sa.Integer(), nullable=False),
    sa.Column('at_h', sa.Float(), nullable=False),
    sa.Column('n_cores_mapped_out', sa.Integer(), nullable=False),
    sa.Column('n_links_mapped_out', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cores_mapped_out', sa.LargeBinary(), nullable=False),
    sa.Column('links_mapped_out', sa.LargeBinary(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('at_h >= 0', name=op.f('ck_remap_actions_time_nonnegative')),
    sa.CheckConstraint('n_cores_mapped_out >= 0 AND n_links_mapped_out >= 0', name=op.f('ck_remap_actions_counts_nonnegative')),
    sa.CheckConstraint('old_image_id IS NULL OR old_image_id <> new_image_id', name=op.f('ck_remap_actions_image_changes')),
    sa.ForeignKeyConstraint(['new_image_id'], ['fabric_images.id'], name=op.f('fk_remap_actions_new_image_id_fabric_images'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['old_image_id'], ['fabric_images.id'], name=op.f('fk_remap_actions_old_image_id_fabric_images'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_remap_actions_run_id_runs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wafer_id'], ['wafers.id'], name=op.f('fk_remap_actions_wafer_id_wafers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remap_actions'))
    )
    with op.batch_alter_table('remap_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remap_actions_wafer_id'), ['wafer_id'], unique=False)

    op.create_table('workload_executions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('workload', sa.String(length=64), nullable=False),
    sa.Column('start_h', sa.Float(), nullable=False),
    sa.Column('end_h', sa.Float(), nullable=True),
    sa.Column('passed', sa.Boolean(create_constraint=True, name=op.f('ck_workload_executions_passed')), nullable=True),
    sa.Column('params', sa.Text(), nullable=True),
    sa.CheckConstraint('end_h IS NULL OR end_h >= start_h', name=op.f('ck_workload_executions_end_after_start')),
    sa.CheckConstraint('start_h >= 0', name=op.f('ck_workload_executions_start_nonnegative')),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_workload_executions_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workload_executions')),
    sa.UniqueConstraint('run_id', 'seq', name=op.f('uq_workload_executions_run_id_seq'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('workload_executions')
    with op.batch_alter_table('remap_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remap_actions_wafer_id'))

    op.drop_table('remap_actions')
    with op.batch_alter_table('fault_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fault_events_fault_class'))

    op.drop_table('fault_events')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runs_wafer_id'))
        batch_op.drop_index(batch_op.f('ix_runs_campaign_id'))

    op.drop_table('runs')
    with op.batch_alter_table('fabric_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fabric_images_wafer_id'))
        batch_op.drop_index(batch_op.f('ix_fabric_images_parent_id'))

    op.drop_table('fabric_images')
    with op.batch_alter_table('repair_maps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repair_maps_wafer_id'))

    op.drop_table('repair_maps')
    with op.batch_alter_table('defect_maps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_defect_maps_wafer_id'))

    op.drop_table('defect_maps')
    with op.batch_alter_table('wafers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wafers_lot_id_state'))

    op.drop_table('wafers')
    op.drop_table('lots')
    op.drop_table('campaigns')
