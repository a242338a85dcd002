"""Alembic's entry point, run on the connection :mod:`switchyard.storage.migrate` hands over."""

from alembic import context

from switchyard.storage.tables import metadata

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
