"""Where usage rows live: SQLAlchemy 2 (async) on SQLite or PostgreSQL, with Alembic migrations.

Nothing here is imported until ``storage`` is configured (``settings`` needs no database driver).
"""
