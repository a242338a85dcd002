"""Prompt templates made through the admin API, in the ``prompt_templates`` table.

Append-only: :meth:`TemplateStore.add` writes version ``latest + 1`` and never updates a row;
two replicas adding a version of the same name at once both succeed, one of them on its
second try (the primary key (name, version) decides). A database that does not answer is
:class:`~switchyard.errors.StorageUnavailable` (503).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchyard.errors import Conflict, StorageUnavailable
from switchyard.storage.engine import transaction
from switchyard.storage.tables import prompt_templates
from switchyard.templates.settings import TemplateMessage, TemplateSpec
from switchyard.templates.version import TemplateVersion

ADD_TRIES = 5  # concurrent writers of one name: each try loses to at most one other


def _version(row: Any) -> TemplateVersion:
    created = row.created_at
    if created is not None and created.tzinfo is None:  # SQLite drops the zone; it was UTC
        created = created.replace(tzinfo=UTC)
    return TemplateVersion(
        name=row.name,
        version=row.version,
        messages=tuple(TemplateMessage.model_validate(m) for m in row.messages),
        variables=tuple(row.variables),
        schema=row.schema,
        description=row.description,
        source="api",
        created_at=created,
    )


class TemplateStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def _begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return transaction(self.engine, "the template database")

    async def add(self, spec: TemplateSpec, max_versions: int) -> TemplateVersion:
        """``spec`` as the name's next version (1 for a new name); 409 past ``max_versions``."""
        for _ in range(ADD_TRIES):
            try:
                async with self._begin() as connection:
                    latest = await connection.scalar(
                        select(func.max(prompt_templates.c.version)).where(
                            prompt_templates.c.name == spec.name
                        )
                    )
                    version = (latest or 0) + 1
                    if version > max_versions:
                        raise Conflict(
                            f"template {spec.name!r} has {max_versions} versions, the most "
                            "template_limits.max_versions keeps",
                            param="name",
                        )
                    made = TemplateVersion.of(spec, version, "api", datetime.now(UTC))
                    await connection.execute(
                        insert(prompt_templates).values(
                            name=made.name,
                            version=made.version,
                            description=made.description,
                            messages=[m.model_dump() for m in made.messages],
                            variables=list(made.variables),
                            schema=made.schema,
                            created_at=made.created_at,
                        )
                    )
                return made
            except IntegrityError:
                continue  # another writer took this version: read the latest again
        raise StorageUnavailable(f"template {spec.name!r}: too many concurrent new versions")

    async def get(self, name: str, version: int | None = None) -> TemplateVersion | None:
        """The version (the latest when ``version`` is None), or None."""
        query = select(prompt_templates).where(prompt_templates.c.name == name)
        if version is None:
            query = query.order_by(prompt_templates.c.version.desc()).limit(1)
        else:
            query = query.where(prompt_templates.c.version == version)
        async with self._begin() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _version(row)

    async def versions(self, name: str) -> list[TemplateVersion]:
        query = (
            select(prompt_templates)
            .where(prompt_templates.c.name == name)
            .order_by(prompt_templates.c.version)
        )
        async with self._begin() as connection:
            return [_version(row) for row in await connection.execute(query)]

    async def latest(self) -> list[TemplateVersion]:
        """Every name's latest version, by name."""
        newest = (
            select(prompt_templates.c.name, func.max(prompt_templates.c.version).label("version"))
            .group_by(prompt_templates.c.name)
            .subquery()
        )
        query = (
            select(prompt_templates)
            .join(
                newest,
                (prompt_templates.c.name == newest.c.name)
                & (prompt_templates.c.version == newest.c.version),
            )
            .order_by(prompt_templates.c.name)
        )
        async with self._begin() as connection:
            return [_version(row) for row in await connection.execute(query)]


__all__ = ["TemplateStore"]
