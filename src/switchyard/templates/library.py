"""The prompt templates a gateway knows, and rendering one for a request.

Two sources: the config's ``templates:`` (read-only, any versions the file lists) and, with
``storage``, those made through the admin API (append-only, numbered 1, 2, ...). A name belongs
to one source: the admin API refuses a name the config defines (409), so "summarise v2" never
means two things. A request names a template (:class:`~switchyard.types.TemplateRef`); the
Gateway calls :meth:`TemplateLibrary.apply` first, and everything after it (limits, cache,
routing) sees the rendered messages.

Errors, each naming the caller's own field (``param``):

- unknown template or version: 404 ``template_not_found``;
- a variable missing, not declared, or against the schema: 400 ``invalid_request``;
- the sandbox refusing (Python internals), the output bound, or any other failure while
  rendering: 400 ``template_error`` naming the template, never a 500.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from switchyard.errors import (
    Conflict,
    InvalidRequest,
    NotConfigured,
    TemplateNotFound,
    TemplateRefused,
)
from switchyard.templates.schema import SchemaViolation, validate
from switchyard.templates.settings import TemplateLimits, TemplateSettings, TemplateSpec
from switchyard.templates.version import TemplateVersion
from switchyard.types import ChatRequest, Message, TemplateRef

if TYPE_CHECKING:
    from jinja2 import Template, UndefinedError

    from switchyard.templates.sandbox import BoundedSandbox

    # the storage extra's SQLAlchemy: a gateway without storage never imports it
    from switchyard.templates.store import TemplateStore

log = logging.getLogger("switchyard.templates")
MAX_PROBLEM = 300  # characters of a rendering failure's description in the error

NO_STORAGE = (
    "templates made through the admin API are kept in the database: add a storage section to "
    'the config (storage: {url: "sqlite+aiosqlite:///switchyard.db"}), or define them under '
    "templates: in the config"
)


class TemplateLibrary:
    def __init__(
        self,
        configured: Sequence[TemplateSettings] = (),
        limits: TemplateLimits | None = None,
        store: TemplateStore | None = None,
    ) -> None:
        self.limits = limits or TemplateLimits()
        self.store = store
        self._configured: dict[str, dict[int, TemplateVersion]] = {}
        for settings in configured:
            versions = self._configured.setdefault(settings.name, {})
            versions[settings.version] = TemplateVersion.of(settings, settings.version, "config")
        self._environment: BoundedSandbox | None = None  # built on first use
        # compiled message templates by (name, version): versions never change, so a
        # compiled one stays right; least recently used out past ``compiled_cache``
        self._compiled: OrderedDict[tuple[str, int], tuple[Template, ...]] = OrderedDict()

    # -- the admin API -----------------------------------------------------------------------

    async def create(self, spec: TemplateSpec) -> TemplateVersion:
        """A new version of ``spec.name`` (409 for a config template's name; 501 without
        storage)."""
        if spec.name in self._configured:
            raise Conflict(
                f"template {spec.name!r} is defined in the config; change it there", param="name"
            )
        if spec.source_chars() > self.limits.max_source_chars:
            raise InvalidRequest(
                f"{spec.source_chars()} characters of template text, more than "
                f"template_limits.max_source_chars ({self.limits.max_source_chars})",
                param="messages" if spec.messages is not None else "template",
            )
        return await self._store().add(spec, self.limits.max_versions)

    async def latest(self) -> list[TemplateVersion]:
        """Every template's latest version, by name (the config's and the stored)."""
        found = {name: versions[max(versions)] for name, versions in self._configured.items()}
        if self.store is not None:
            for stored in await self.store.latest():
                found.setdefault(stored.name, stored)
        return [found[name] for name in sorted(found)]

    async def versions(self, name: str) -> list[TemplateVersion]:
        configured = self._configured.get(name)
        if configured is not None:
            return [configured[v] for v in sorted(configured)]
        found = [] if self.store is None else await self.store.versions(name)
        if not found:
            raise TemplateNotFound(f"no template named {name!r}", param="name")
        return found

    async def version(self, name: str, version: int | None, param: str = "name") -> TemplateVersion:
        """``name``'s ``version`` (None: the latest), or 404 naming ``param``."""
        configured = self._configured.get(name)
        if configured is not None:
            found = configured.get(max(configured) if version is None else version)
        else:
            found = None if self.store is None else await self.store.get(name, version)
        if found is None:
            if version is not None and await self._exists(name):
                raise TemplateNotFound(
                    f"template {name!r} has no version {version}",
                    param=param.removesuffix("name") + "version",
                )
            raise TemplateNotFound(f"no template named {name!r}", param=param)
        return found

    # -- the request's stage -----------------------------------------------------------------

    async def apply(self, request: ChatRequest) -> ChatRequest:
        """``request`` with its template rendered: the template's messages first, then the
        request's own; ``template`` is then None (the cache, limits and providers see only
        messages)."""
        return (await self.applied(request))[0]

    async def applied(self, request: ChatRequest) -> tuple[ChatRequest, str]:
        """As :meth:`apply`, with the template used as ``name@version`` (the usage record's)."""
        ref = request.template
        assert ref is not None
        found = await self.version(ref.name, ref.version, f"{ref.param}.name")
        messages = self.render(found, ref)
        rendered = request.model_copy(
            update={"messages": [*messages, *request.messages], "template": None}
        )
        return rendered, f"{found.name}@{found.version}"

    def render(self, template: TemplateVersion, ref: TemplateRef) -> list[Message]:
        """The template's messages with ``ref``'s variables, checked first."""
        # Jinja2 is imported by the first rendering, not by a gateway that renders none
        from jinja2 import TemplateSyntaxError, UndefinedError

        from switchyard.templates.sandbox import OutputTooLarge, SecurityError, render

        _check_variables(template, ref)
        try:
            compiled = self._compile(template)
        except TemplateSyntaxError as exc:  # checked when defined: a row written otherwise
            raise self._refused(template, ref, f"line {exc.lineno}: {exc.message}") from None
        budget = self.limits.max_output_chars
        messages: list[Message] = []
        for source, message in zip(template.messages, compiled, strict=True):
            try:
                text = render(message, ref.variables, budget, self.limits.max_output_chars)
            except OutputTooLarge as exc:
                raise self._refused(template, ref, f"output bound: {exc}") from None
            except SecurityError as exc:
                raise self._refused(template, ref, f"refused by the sandbox: {exc}") from None
            except UndefinedError as exc:
                raise _unset(template, ref, exc) or self._refused(
                    template, ref, f"UndefinedError: {exc}"
                ) from None
            except Exception as exc:  # the template's own failure on these values, never a 500
                log.debug("template %s v%s failed", template.name, template.version, exc_info=True)
                raise self._refused(template, ref, f"{type(exc).__name__}: {exc}") from None
            budget -= len(text)
            messages.append(Message(role=source.role, content=text))
        return messages

    # -- parts -------------------------------------------------------------------------------

    def _store(self) -> TemplateStore:
        if self.store is None:
            raise NotConfigured(NO_STORAGE)
        return self.store

    async def _exists(self, name: str) -> bool:
        if name in self._configured:
            return True
        return self.store is not None and await self.store.get(name) is not None

    def _compile(self, template: TemplateVersion) -> tuple[Template, ...]:
        key = (template.name, template.version)
        compiled = self._compiled.get(key)
        if compiled is not None:
            self._compiled.move_to_end(key)
            return compiled
        if self._environment is None:
            from switchyard.templates.sandbox import BoundedSandbox

            self._environment = BoundedSandbox(self.limits.max_output_chars)
        compiled = tuple(self._environment.from_string(m.content) for m in template.messages)
        self._compiled[key] = compiled
        if len(self._compiled) > self.limits.compiled_cache:
            self._compiled.popitem(last=False)
        return compiled

    @staticmethod
    def _refused(template: TemplateVersion, ref: TemplateRef, problem: str) -> TemplateRefused:
        if len(problem) > MAX_PROBLEM:  # an exception's text may quote a whole value
            problem = problem[:MAX_PROBLEM] + "..."
        return TemplateRefused(
            f"template {template.name!r} version {template.version} could not be rendered: "
            f"{problem}",
            param=ref.param,
        )


def _unset(
    template: TemplateVersion, ref: TemplateRef, error: UndefinedError
) -> InvalidRequest | None:
    """A variable the schema leaves optional, left out by the caller, that the template reads
    without a default: the caller's to give, so a 400 naming it, as for a required one."""
    named = _UNDEFINED.match(str(error.message))
    name = None if named is None else named.group(1)
    if name is None or name not in template.variables or name in ref.variables:
        return None
    return InvalidRequest(
        f"template {template.name!r} needs the variable {name!r} here (it reads it without "
        "a default)",
        param=f"{ref.variables_param}.{name}",
    )


_UNDEFINED = re.compile(r"^'(\w+)' is undefined$")  # StrictUndefined's message for a name


def _check_variables(template: TemplateVersion, ref: TemplateRef) -> None:
    """Declared names only, every required one, and the schema: 400 naming the variable."""
    given: dict[str, Any] = ref.variables
    declared = set(template.variables)
    for name in given:
        if name not in declared:
            known = ", ".join(template.variables) or "none"
            raise InvalidRequest(
                f"template {template.name!r} has no variable {name!r} (declared: {known})",
                param=f"{ref.variables_param}.{name}",
            )
    for name in template.required:
        if name not in given:
            raise InvalidRequest(
                f"template {template.name!r} needs the variable {name!r}",
                param=f"{ref.variables_param}.{name}",
            )
    if template.schema is not None:
        try:
            validate(given, template.schema)
        except SchemaViolation as exc:
            raise InvalidRequest(
                f"template {template.name!r}: variables{exc.path}: {exc.problem}",
                param=f"{ref.variables_param}{exc.path}",
            ) from None


__all__ = ["NO_STORAGE", "TemplateLibrary"]
