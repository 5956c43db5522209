"""Defect and repair maps keep every field of their domain objects.

``defect_maps.design`` (``DefectMap.design``); ``repair_maps.scheme_params``
(JSON), ``design``, ``design_fingerprint`` and ``algorithm``, so that a
stored ``RepairMap`` reloads equal to the one written. Existing rows get
empty values (``{}`` for the parameters).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('defect_maps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('design', sa.String(length=64), server_default='', nullable=False))
    with op.batch_alter_table('repair_maps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheme_params', sa.Text(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('design', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('design_fingerprint', sa.String(length=64), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('algorithm', sa.String(length=64), server_default='', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('repair_maps', schema=None) as batch_op:
        batch_op.drop_column('algorithm')
        batch_op.drop_column('design_fingerprint')
        batch_op.drop_column('design')
        batch_op.drop_column('scheme_params')
    with op.batch_alter_table('defect_maps', schema=None) as batch_op:
        batch_op.drop_column('design')
