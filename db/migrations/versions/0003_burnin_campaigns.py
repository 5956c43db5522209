"""Burn-in campaigns: lot and campaign parameters, wafer seeds, run steps, remap moves.

``lots.params`` and ``campaigns.params`` (JSON text) record how a lot was
made and under which conditions a campaign runs; ``wafers.seed`` the seed a
wafer was sampled from; ``runs.step`` numbers the runs of a wafer in a
campaign, unique per ``(campaign_id, wafer_id, step)`` so a resumed campaign
cannot log a step twice; ``remap_actions.cores_moved`` and ``method`` say how
many logical cores a remap moved and how it was planned. Existing rows get
NULL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 11:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.Text(), nullable=True))
    with op.batch_alter_table('wafers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seed', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.Text(), nullable=True))
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_runs_campaign_id_wafer_id_step'),
                                          ['campaign_id', 'wafer_id', 'step'])
    with op.batch_alter_table('remap_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cores_moved', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('method', sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('remap_actions', schema=None) as batch_op:
        batch_op.drop_column('method')
        batch_op.drop_column('cores_moved')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_runs_campaign_id_wafer_id_step'), type_='unique')
        batch_op.drop_column('step')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('params')
    with op.batch_alter_table('wafers', schema=None) as batch_op:
        batch_op.drop_column('seed')
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.drop_column('params')
