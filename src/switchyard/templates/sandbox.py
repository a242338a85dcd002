"""Jinja2 in its immutable sandbox, with bounds on what a template can make of its variables.

Templates are written by the gateway's admins; their variables come from any caller. The
sandbox (Jinja2's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`) keeps Python's
internals out of reach (``''.__class__``, ``cycler.__init__.__globals__``: refused) and the
variables unmodified; on top of it:

- undefined names fail (``StrictUndefined``), nothing is HTML-escaped (these are prompts);
- the output is counted while it is produced and rendering stops past ``max_output_chars``;
- the ways a template can blow a small variable up into a huge value are bounded before they
  allocate: repetition (``text * n``), concatenation, powers, padding and widths
  (``center``, ``ljust``, ``"%9999999d"``, ``"{:>9999999}"``), ``replace``, ``indent``,
  ``join``, ``wordwrap``'s break string and ``tojson``'s indent;
  ``lipsum`` is not offered and ``range`` stays the sandbox's (100 000 items at most).

What the sandbox does not bound is the time a template's own loops take: a template that loops
a million times over nothing is its author's doing, and only admins author templates.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_POWER_BITS = 4096  # the largest integer ``a ** b`` may make
MAX_JSON_INDENT = 8  # tojson's indent repeats on every line
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d+|\*)?(?:\.(\d+|\*))?[a-zA-Z%]")
_WIDTH = re.compile(r"\d+")
_PADDERS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class OutputTooLarge(SecurityError):
    """The template would produce more than the output bound (or a value that large)."""


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The environment every template is compiled in: one per bound, shared by all templates."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, max_output_chars: int) -> None:
        super().__init__(
            autoescape=False,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,
            cache_size=0,  # templates are compiled once and kept by the library
        )
        self.max_output_chars = max_output_chars
        self.globals.pop("lipsum", None)
        for name, guard in (
            ("center", self._padded),
            ("indent", self._indented),
            ("format", self._printf),
            ("replace", self._replaced),
            ("join", self._joined),
            ("wordwrap", self._wrapped),
            ("tojson", self._json),
        ):
            self.filters[name] = _guarded(self.filters[name], guard)

    # -- operators and calls, checked before they allocate ----------------------------------

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            self._repeat(left, right)
            self._repeat(right, left)
        elif operator == "+":
            if _sized(left) and _sized(right):
                self._fits(len(left) + len(right))
        elif operator == "**":
            self._power(left, right)
        elif operator == "%" and isinstance(left, str):
            self._printf(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name in _PADDERS:
                __self._widths(args, kwargs)
            elif name == "replace":
                __self._replaced(owner, *args)
            elif name == "join" and args:
                __self._joined(args[0], owner)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            self._format_widths(value.__self__)
        return wrapped

    # -- the checks --------------------------------------------------------------------------

    def _fits(self, size: int) -> None:
        if size > self.max_output_chars:
            raise OutputTooLarge(
                f"a value of {size} characters or items is more than the "
                f"{self.max_output_chars} a template may produce"
            )

    def _repeat(self, sequence: Any, times: Any) -> None:
        if _sized(sequence) and isinstance(times, int):
            self._fits(len(sequence) * max(times, 0))

    def _power(self, base: Any, exponent: Any) -> None:
        if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
            if max(abs(base).bit_length() - 1, 0) * exponent > MAX_POWER_BITS:
                raise OutputTooLarge(f"{base} ** {exponent} is too large a number")

    def _widths(self, args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int):
                self._fits(value)

    def _padded(self, value: Any, *args: Any, **kwargs: Any) -> None:
        self._widths(args, kwargs)

    def _indented(self, value: Any, width: Any = 4, *args: Any, **kwargs: Any) -> None:
        width = kwargs.get("width", width)
        per_line = width if isinstance(width, int) else len(str(width))
        self._fits(len(str(value)) + per_line * (str(value).count("\n") + 1))

    def _printf(self, pattern: Any, *args: Any, **kwargs: Any) -> None:
        for match in _PRINTF_SPEC.finditer(str(pattern)):
            for number in match.groups():
                if number is not None and number != "*":
                    self._fits(int(number))
                elif number == "*":
                    raise OutputTooLarge("'*' widths are not allowed in templates")

    def _format_widths(self, pattern: str) -> None:
        for _, _, spec, _ in string.Formatter().parse(pattern):
            for number in _WIDTH.findall(spec or ""):
                self._fits(int(number))

    def _replaced(self, value: Any, old: Any = "", new: Any = "", *args: Any, **kw: Any) -> None:
        text, old, new = str(value), str(old), str(new)
        hits = len(text) + 1 if old == "" else text.count(old)
        self._fits(len(text) + hits * max(len(new) - len(old), 0))

    def _joined(self, items: Any, separator: Any = "", *args: Any, **kwargs: Any) -> None:
        separator = kwargs.get("d", separator)
        if hasattr(items, "__len__") and len(items) > 1:
            self._fits((len(items) - 1) * len(str(separator)))

    def _wrapped(self, value: Any, *args: Any, **kwargs: Any) -> None:
        wrap = kwargs.get("wrapstring", args[2] if len(args) > 2 else None)
        if wrap is not None:  # at most one line break per character
            self._fits(len(str(value)) * (len(str(wrap)) + 1))

    def _json(self, value: Any, indent: Any = None, **kwargs: Any) -> None:
        if isinstance(indent, int) and indent > MAX_JSON_INDENT:
            raise OutputTooLarge(f"tojson: an indent of at most {MAX_JSON_INDENT}")


def _sized(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


def _guarded(function: Callable[..., Any], guard: Callable[..., None]) -> Callable[..., Any]:
    """A filter that runs ``guard`` on its arguments first (filters are called without
    :meth:`BoundedSandbox.call`)."""

    def checked(*args: Any, **kwargs: Any) -> Any:
        guard(*(a for a in args if not isinstance(a, EvalContext | Context)), **kwargs)
        return function(*args, **kwargs)

    if hasattr(function, "jinja_pass_arg"):  # pass_eval_context and friends keep working
        checked.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return checked


def render(
    template: Template, variables: Mapping[str, Any], max_chars: int, bound: int | None = None
) -> str:
    """``template`` rendered with ``variables``, stopped as soon as it passes ``max_chars``
    (what is left of the whole rendering's ``bound``, which the error names)."""
    pieces: list[str] = []
    size = 0
    for piece in template.generate(variables):
        size += len(piece)
        if size > max_chars:
            raise OutputTooLarge(
                f"the rendered text is longer than {bound or max_chars} characters"
            )
        pieces.append(piece)
    return "".join(pieces)


def names_used(environment: BoundedSandbox, source: str) -> set[str]:
    """The variables ``source`` reads from its caller (not those it sets itself, nor the
    environment's globals such as ``range``); raises ``TemplateSyntaxError``."""
    tree: nodes.Template = environment.parse(source)
    return meta.find_undeclared_variables(tree) - set(environment.globals)


__all__ = [
    "BoundedSandbox",
    "OutputTooLarge",
    "SecurityError",
    "TemplateError",
    "names_used",
    "render",
]
