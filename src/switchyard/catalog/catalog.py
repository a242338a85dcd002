"""The model catalog: limits, prices and capabilities of upstream models, looked up by name.

The packaged ``models.yaml`` is parsed and validated once per process (:meth:`Catalog.default`);
config layers a YAML file (``catalog.path``) and inline entries (``catalog.models``) over it
(:meth:`Catalog.from_settings`). Lookups are on the hot path (the cost of every response), so
:meth:`Catalog.get` is a dict lookup on an index built once; names that need normalising
(``openai/gpt-4.1``, ``Claude-Sonnet-4.5``, ``claude-haiku-4-5@20251001``) are resolved once and
remembered.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NoReturn

import yaml
from pydantic import ValidationError

from switchyard.catalog.model_info import ModelInfo
from switchyard.catalog.settings import CatalogSettings
from switchyard.errors import ConfigError
from switchyard.types import Prices

PACKAGED_FILE = "models.yaml"
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MEMO_LIMIT = 4096  # resolved non-canonical names remembered (they come from callers)
_MERGED_FIELDS = frozenset({"capabilities"})  # merged flag by flag on override; others replace


class Catalog:
    """An immutable set of :class:`ModelInfo` with a case-insensitive index of names and aliases.

    Names and aliases must be unique across the whole catalog (ignoring case).
    """

    __slots__ = ("_exact", "_families", "_loose", "_memo", "_models")

    def __init__(self, models: Iterable[ModelInfo]) -> None:
        self._models: tuple[ModelInfo, ...] = tuple(models)
        exact: dict[str, ModelInfo] = {}
        for model in self._models:
            for key in (model.name, *model.aliases):
                folded = _fold(key)
                other = exact.get(folded)
                if other is not None:
                    raise ValueError(
                        f"catalog: {key!r} is used by both {other.name!r} and {model.name!r}"
                    )
                exact[folded] = model
        # Second chance for spellings that differ only in separators ("4.5" vs "4-5", "@" vs
        # "-", ":free"); a loose key two models share is dropped rather than guessed.
        loose: dict[str, ModelInfo] = {}
        ambiguous: set[str] = set()
        for folded, model in exact.items():
            key = _loosen(folded)
            if loose.setdefault(key, model) is not model:
                ambiguous.add(key)
        for key in ambiguous:
            del loose[key]
        self._exact = exact
        self._loose = loose
        self._families = frozenset(model.provider.lower() for model in self._models)
        self._memo: dict[tuple[str, str | None], ModelInfo | None] = {}

    # --- construction -------------------------------------------------------------------

    @classmethod
    def default(cls) -> Catalog:
        """The packaged catalog, parsed and validated once per process."""
        return _packaged_catalog()

    @classmethod
    def from_settings(cls, settings: CatalogSettings) -> Catalog:
        """The packaged catalog with ``settings.path`` and then ``settings.models`` layered on.

        An entry whose ``name`` is already in the catalog overrides it: the fields it sets
        replace the catalog's (``capabilities`` is merged flag by flag), the rest are kept. A
        new name adds a model. Problems raise :class:`switchyard.errors.ConfigError`
        naming the entry, e.g. ``catalog.models[2].context_window``. A relative ``path`` is
        resolved against the working directory.
        """
        base = cls.default()
        if settings.path is None and not settings.models:
            return base
        layers = _Layers(base)
        if settings.path is not None:
            path = Path(settings.path).expanduser()
            source = f"catalog file {path}"
            try:
                text = path.read_text("utf-8")
            except OSError as exc:
                _fail([("catalog.path", f"cannot read {str(path)!r}: {exc.strerror}")], "config")
            problems: list[tuple[str, str]] = []
            for i, raw in enumerate(_entries(text, source)):
                layers.apply(raw, f"models[{i}]", problems)
            layers.check_unique(problems)
            if problems:
                _fail(problems, source)
        problems = []
        for i, model in enumerate(settings.models):
            layers.apply(model.model_dump(exclude_unset=True), f"catalog.models[{i}]", problems)
        layers.check_unique(problems)
        if problems:
            _fail(problems, "config")
        return cls(layers.models())

    # --- lookups ------------------------------------------------------------------------

    def get(self, name: str, provider: str | None = None) -> ModelInfo | None:
        """The entry for a model name or alias, or None.

        Case is ignored, a ``provider/`` prefix (or several, as in
        ``openrouter/openai/gpt-4.1``) is stripped, and spellings that differ only in
        separators match (``claude-sonnet-4.5`` finds ``claude-sonnet-4-5``). ``provider``,
        when it names a provider family in the catalog (``openai``, ``anthropic`` ...), keeps
        only that family's models; any other value (a router such as ``openrouter``, a custom
        provider name) is ignored, since such services serve other families' models.
        """
        model = self._exact.get(name)
        if model is not None and (provider is None or self._serves(provider, model)):
            return model
        key = (name, provider)
        try:
            return self._memo[key]
        except KeyError:
            pass
        found = self._resolve(name, provider)
        if len(self._memo) < _MEMO_LIMIT:
            self._memo[key] = found
        return found

    def price(self, name: str, provider: str | None = None) -> Prices | None:
        """The prices of a model (USD per million tokens), or None if the model is unknown."""
        model = self.get(name, provider)
        return None if model is None else model.prices

    def models(
        self, provider: str | None = None, mode: Literal["chat", "embedding"] | None = None
    ) -> list[ModelInfo]:
        """Entries in catalog order, optionally only one provider family and/or one mode."""
        family = None if provider is None else provider.lower()
        return [
            model
            for model in self._models
            if (family is None or model.provider.lower() == family)
            and (mode is None or model.mode == mode)
        ]

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __repr__(self) -> str:
        return f"<Catalog of {len(self._models)} models>"

    # --- internals ----------------------------------------------------------------------

    def _serves(self, provider: str, model: ModelInfo) -> bool:
        family = provider.lower()
        return family not in self._families or model.provider.lower() == family

    def _resolve(self, name: str, provider: str | None) -> ModelInfo | None:
        for key in _candidates(_fold(name)):
            model = self._exact.get(key) or self._loose.get(_loosen(key))
            if model is not None and (provider is None or self._serves(provider, model)):
                return model
        return None


# --- names ---------------------------------------------------------------------------------


def _fold(name: str) -> str:
    return name.strip().lower()


def _loosen(folded: str) -> str:
    """Separator-insensitive form: a ``:tag`` suffix dropped, ``@ . _`` read as ``-``
    (``claude-haiku-4.5@20251001:free`` -> ``claude-haiku-4-5-20251001``)."""
    base = folded.partition(":")[0]
    return base.replace("@", "-").replace(".", "-").replace("_", "-")


def _candidates(folded: str) -> Iterator[str]:
    """The name, then what follows each ``/`` (``a/b/c`` -> ``a/b/c``, ``b/c``, ``c``)."""
    yield folded
    rest = folded
    while "/" in rest:
        rest = rest.partition("/")[2]
        if rest:
            yield rest


# --- loading -------------------------------------------------------------------------------


@functools.cache
def _packaged_catalog() -> Catalog:
    source = f"packaged {PACKAGED_FILE}"
    text = resources.files(__package__).joinpath(PACKAGED_FILE).read_text("utf-8")
    problems: list[tuple[str, str]] = []
    models: list[ModelInfo] = []
    for i, raw in enumerate(_entries(text, source)):
        model = _validate(raw, f"models[{i}]", problems)
        if model is not None:
            models.append(model)
    if problems:
        _fail(problems, source)
    return Catalog(models)


def _entries(text: str, source: str) -> list[Mapping[str, Any]]:
    """The entries of a catalog file: a mapping with a ``models`` list, or a bare list."""
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        _fail([("(file)", f"not valid YAML: {exc}")], source)
    if data is None:
        return []
    if isinstance(data, Mapping):
        unknown = sorted(str(key) for key in data if key != "models")
        if unknown:
            _fail([(key, "unknown key (expected only 'models')") for key in unknown], source)
        data = data.get("models") or []
    if not isinstance(data, list):
        _fail([("models", "must be a list of model entries")], source)
    problems = [
        (f"models[{i}]", "must be a mapping")
        for i, e in enumerate(data)
        if not isinstance(e, Mapping)
    ]
    if problems:
        _fail(problems, source)
    return data


def _validate(
    raw: Mapping[str, Any], key: str, problems: list[tuple[str, str]]
) -> ModelInfo | None:
    try:
        return ModelInfo.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append((_key(key, error.get("loc", ())), _message(error)))
        return None


def _key(prefix: str, loc: Sequence[int | str]) -> str:
    key = prefix
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _message(error: Any) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown key"
    return str(error.get("msg", "invalid"))


def _fail(problems: list[tuple[str, str]], source: str) -> NoReturn:
    raise ConfigError(problems, source)


class _Layers:
    """The catalog being assembled from the packaged entries and config layers, in order."""

    def __init__(self, base: Catalog) -> None:
        self._entries: dict[str, ModelInfo] = {_fold(m.name): m for m in base}
        # where each entry last came from: (order applied, config key); packaged: (0, None)
        self._origin: dict[str, tuple[int, str | None]] = dict.fromkeys(self._entries, (0, None))
        self._applied = 0

    def models(self) -> list[ModelInfo]:
        return list(self._entries.values())

    def apply(self, raw: Mapping[str, Any], key: str, problems: list[tuple[str, str]]) -> None:
        name = raw.get("name")
        folded = _fold(name) if isinstance(name, str) else None
        current = self._entries.get(folded) if folded else None
        if folded and current is None:
            owner = self._alias_owner(folded)
            if owner is not None:
                problems.append(
                    (
                        f"{key}.name",
                        f"{name!r} is an alias of {owner.name!r}; to override "
                        f"that model use its name {owner.name!r}, or choose another name",
                    )
                )
                return
        if current is not None:
            merged = current.model_dump()
            for field, value in raw.items():
                if field in _MERGED_FIELDS and isinstance(value, Mapping):
                    merged[field] = {**merged[field], **value}
                else:
                    merged[field] = value
            raw = merged
        model = _validate(raw, key, problems)
        if model is not None and folded:
            self._entries[folded] = model
            self._applied += 1
            self._origin[folded] = (self._applied, key)

    def check_unique(self, problems: list[tuple[str, str]]) -> None:
        """Names and aliases unique across the catalog; a clash is blamed on the config entry."""
        owners: dict[str, ModelInfo] = {}
        ordered = sorted(self._entries.items(), key=lambda item: self._origin[item[0]][0])
        for folded, model in ordered:
            origin = self._origin[folded][1]
            for j, alias in enumerate((model.name, *model.aliases)):
                other = owners.setdefault(_fold(alias), model)
                if other is not model and origin is not None:
                    field = "name" if j == 0 else f"aliases[{j - 1}]"
                    problems.append(
                        (f"{origin}.{field}", f"{alias!r} is already used by model {other.name!r}")
                    )

    def _alias_owner(self, folded: str) -> ModelInfo | None:
        for model in self._entries.values():
            if any(_fold(alias) == folded for alias in model.aliases):
                return model
        return None


__all__ = ["PACKAGED_FILE", "Catalog"]
