"""Alembic environment: qunbot runs migrations itself on a connection it passes in (see storage/migrate.py)."""

from __future__ import annotations

from alembic import context

from storage.base import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs the alembic CLI by hand
    raise SystemExit("run migrations with `qunbot migrate` (storage/migrate.py), not the alembic CLI")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  on_version_apply=config.attributes.get("on_version_apply"))  # progress (storage/migrate.py)
with context.begin_transaction():
    context.run_migrations()
