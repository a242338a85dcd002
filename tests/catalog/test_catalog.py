"""The model catalog: the shipped data file, lookups, config layering and prices."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from switchyard.catalog import Catalog, ModelCapabilities, ModelInfo
from switchyard.catalog.catalog import PACKAGED_FILE
from switchyard.catalog.settings import CatalogSettings
from switchyard.config.load import validate_config
from switchyard.errors import ConfigError
from switchyard.types import Prices, Usage

PROVIDERS = {"openai", "anthropic", "gemini", "deepseek", "mistral", "cohere", "local"}


def raw_entries() -> list[dict[str, Any]]:
    text = resources.files("switchyard.catalog").joinpath(PACKAGED_FILE).read_text("utf-8")
    data = yaml.safe_load(text)
    entries: list[dict[str, Any]] = data["models"]
    return entries


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.default()


# --- the shipped file ------------------------------------------------------------------------


def test_shipped_file_validates_into_model_info(catalog: Catalog) -> None:
    entries = raw_entries()
    assert len(catalog) == len(entries) > 50
    assert all(isinstance(model, ModelInfo) for model in catalog)
    assert [model.name for model in catalog] == [entry["name"] for entry in entries]


def test_every_entry_is_sane(catalog: Catalog) -> None:
    for model in catalog:
        where = model.name
        assert model.provider in PROVIDERS, where
        assert model.context_window > 0, where
        assert model.max_output_tokens is None or 0 < model.max_output_tokens <= (
            model.context_window
        ), where
        prices = model.prices
        assert prices.input >= 0 and prices.output >= 0, where
        if prices.cached_input is not None:
            assert 0 <= prices.cached_input <= prices.input, where
        assert model.quality is not None and 0 <= model.quality <= 100, where
        assert model.strengths and model.use_cases, where
        caps = model.capabilities
        if model.mode == "embedding":
            assert caps.embeddings and not caps.streaming and not caps.tools, where
            assert model.dimensions is not None and model.max_output_tokens is None, where
            assert prices.output == 0, where
        else:
            assert caps.streaming and not caps.embeddings, where
            assert model.dimensions is None, where
        if model.provider == "local":
            assert prices == Prices(input=0, output=0), where
        else:
            assert prices.input > 0, where


def test_names_are_unique_across_names_and_aliases() -> None:
    seen: dict[str, str] = {}
    for entry in raw_entries():
        for key in (entry["name"], *entry.get("aliases", [])):
            folded = key.lower()
            assert folded not in seen, f"{key!r} used by {seen.get(folded)!r} and {entry['name']!r}"
            seen[folded] = entry["name"]


def test_the_models_asked_for_are_there(catalog: Catalog) -> None:
    for name in [
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-4o",
        "gpt-4o-mini",
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "text-embedding-ada-002",
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-embedding-001",
        "deepseek-flash",
        "deepseek-v4-pro",
        "mistral-large-latest",
        "mistral-medium-latest",
        "mistral-small-latest",
        "codestral-latest",
        "mistral-embed",
        "command-a-03-2025",
        "command-r-08-2024",
        "command-r-plus-08-2024",
        "embed-v4.0",
        "embed-english-v3.0",
    ]:
        assert catalog.get(name) is not None, name


def test_local_defaults(catalog: Catalog) -> None:
    smol = catalog.get("smollm2-135m-instruct")
    assert smol is not None
    assert (smol.provider, smol.mode, smol.context_window) == ("local", "chat", 2048)
    assert smol.prices.cost(Usage(input_tokens=10_000, output_tokens=500)).total == 0
    assert smol.capabilities == ModelCapabilities(streaming=True, json_mode=True)  # a grammar
    minilm = catalog.get("all-minilm-l6-v2")
    assert minilm is not None
    assert (minilm.mode, minilm.dimensions, minilm.context_window) == ("embedding", 384, 256)
    assert minilm.prices.input == 0


# --- lookups -----------------------------------------------------------------------------------


def test_every_alias_resolves_to_its_entry(catalog: Catalog) -> None:
    for model in catalog:
        assert catalog.get(model.name) is model
        for alias in model.aliases:
            assert catalog.get(alias) is model, alias


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("gpt-5.6", "gpt-5.6-sol"),
        ("mistral-large-latest", "mistral-large-2512"),
        ("deepseek-v4-flash", "deepseek-flash"),
        # case, provider prefixes, OpenRouter-style ids, other separators
        ("GPT-4.1", "gpt-4.1"),
        ("  gpt-4o-mini ", "gpt-4o-mini"),
        ("openai/gpt-4.1", "gpt-4.1"),
        ("openrouter/openai/gpt-4.1", "gpt-4.1"),
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("google/gemini-2.5-pro", "gemini-2.5-pro"),
        ("claude-haiku-4-5@20251001", "claude-haiku-4-5"),
        ("deepseek/deepseek-v4.1-flash", "deepseek-flash"),
        ("openai/gpt-4o-mini:free", "gpt-4o-mini"),
        ("sentence-transformers/all-MiniLM-L6-v2", "all-minilm-l6-v2"),
    ],
)
def test_names_resolve(catalog: Catalog, name: str, expected: str) -> None:
    model = catalog.get(name)
    assert model is not None and model.name == expected


@pytest.mark.parametrize("name", ["", "gpt", "gpt-4.2", "openai/", "claude", "my-model"])
def test_unknown_names_are_none(catalog: Catalog, name: str) -> None:
    assert catalog.get(name) is None
    assert catalog.price(name) is None
    assert name not in catalog


def test_provider_narrows_to_a_known_family_and_ignores_routers(catalog: Catalog) -> None:
    assert catalog.get("gpt-4.1", provider="openai") is catalog.get("gpt-4.1")
    assert catalog.get("gpt-4.1", provider="OpenAI") is catalog.get("gpt-4.1")
    assert catalog.get("gpt-4.1", provider="anthropic") is None
    assert catalog.get("openai/gpt-4.1", provider="anthropic") is None
    # a router or a custom provider name serves other families' models
    assert catalog.get("openai/gpt-4.1", provider="openrouter") is catalog.get("gpt-4.1")
    assert catalog.get("claude-opus-5-5", provider="my-mirror") is not None


def test_lookups_are_indexed_and_normalised_names_remembered_up_to_a_bound(
    catalog: Catalog,
) -> None:
    fresh = Catalog(list(catalog))
    first = fresh.get("OpenAI/GPT-4.1")
    assert first is fresh.get("OpenAI/GPT-4.1") is fresh.get("gpt-4.1")
    for i in range(6000):  # names come from callers: the memory of misses is bounded
        assert fresh.get(f"unknown-{i}") is None
    assert len(fresh._memo) <= 4096


def test_models_filters_by_provider_and_mode(catalog: Catalog) -> None:
    anthropic = catalog.models(provider="anthropic")
    assert anthropic and all(m.provider == "anthropic" for m in anthropic)
    embeddings = catalog.models(mode="embedding")
    assert {m.name for m in embeddings} >= {"text-embedding-3-small", "all-minilm-l6-v2"}
    assert all(m.mode == "embedding" for m in embeddings)
    assert catalog.models(provider="openai", mode="embedding") == [
        m for m in embeddings if m.provider == "openai"
    ]
    assert catalog.models() == list(catalog)
    assert catalog.models(provider="nobody") == []


def test_price(catalog: Catalog) -> None:
    assert catalog.price("gpt-4.1") == Prices(input=2.0, output=8.0, cached_input=0.5)
    assert catalog.price("openai/gpt-4.1-2025-04-14") == catalog.price("gpt-4.1")


def test_default_is_parsed_once_per_process() -> None:
    assert Catalog.default() is Catalog.default()


def test_duplicate_names_are_refused() -> None:
    a = ModelInfo(name="a", provider="x", context_window=10, aliases=["b"])
    b = ModelInfo(name="B", provider="x", context_window=10)
    with pytest.raises(ValueError, match="'B' is used by both 'a' and 'B'"):
        Catalog([a, b])


# --- costs at real prices, worked out by hand ---------------------------------------------


def test_cost_gpt_4_1_with_cached_tokens(catalog: Catalog) -> None:
    # $2.00 in, $0.50 cached in, $8.00 out per million tokens.
    # 120,000 input of which 100,000 cached: 20,000 x 2 = $0.04; 100,000 x 0.5 = $0.05
    # 3,000 output x 8 = $0.024                                    total $0.114
    prices = catalog.price("gpt-4.1")
    assert prices is not None
    cost = prices.cost(
        Usage(input_tokens=120_000, cached_input_tokens=100_000, output_tokens=3_000)
    )
    assert cost.input == pytest.approx(0.09, abs=1e-12)
    assert cost.output == pytest.approx(0.024, abs=1e-12)
    assert cost.total == pytest.approx(0.114, abs=1e-12)


def test_cost_claude_sonnet_4_5_with_cached_tokens(catalog: Catalog) -> None:
    # $3.00 in, $0.30 cache read, $15.00 out per million tokens.
    # 50,000 input of which 40,000 cached: 10,000 x 3 = $0.03; 40,000 x 0.3 = $0.012
    # 2,000 output x 15 = $0.03                                    total $0.072
    prices = catalog.price("claude-sonnet-4-5-20250929")
    assert prices is not None
    cost = prices.cost(Usage(input_tokens=50_000, cached_input_tokens=40_000, output_tokens=2_000))
    assert cost.input == pytest.approx(0.042, abs=1e-12)
    assert cost.output == pytest.approx(0.03, abs=1e-12)
    assert cost.total == pytest.approx(0.072, abs=1e-12)


def test_cost_deepseek_flash_with_cached_tokens(catalog: Catalog) -> None:
    # peak rates: $0.30 cache miss, $0.006 cache hit, $1.20 out per million tokens.
    # 200,000 input of which 150,000 cached: 50,000 x 0.3 = $0.015; 150,000 x 0.006 = $0.0009
    # 10,000 output x 1.2 = $0.012                                 total $0.0279
    prices = catalog.price("deepseek-flash")
    assert prices is not None
    cost = prices.cost(
        Usage(input_tokens=200_000, cached_input_tokens=150_000, output_tokens=10_000)
    )
    assert cost.input == pytest.approx(0.0159, abs=1e-12)
    assert cost.total == pytest.approx(0.0279, abs=1e-12)


def test_cost_without_a_cache_read_price_counts_cached_tokens_in_full(catalog: Catalog) -> None:
    # gemini-2.5-flash-lite: $0.10 in, $0.40 out, no confirmed cache-read price.
    # 1,000,000 input (half cached, billed in full) = $0.10; 100,000 output x 0.4 = $0.04
    prices = catalog.price("gemini-2.5-flash-lite")
    assert prices is not None and prices.cached_input is None
    cost = prices.cost(
        Usage(input_tokens=1_000_000, cached_input_tokens=500_000, output_tokens=100_000)
    )
    assert cost.total == pytest.approx(0.14, abs=1e-12)


# --- config layering -----------------------------------------------------------------------


def test_empty_settings_give_the_default_catalog() -> None:
    assert Catalog.from_settings(CatalogSettings()) is Catalog.default()


def test_settings_models_override_and_add() -> None:
    settings = CatalogSettings(
        models=[
            ModelInfo(
                name="GPT-4.1",  # same model, any case
                provider="openai",
                context_window=1047576,
                prices=Prices(input=1.0, output=4.0),
                capabilities=ModelCapabilities(vision=False),
            ),
            ModelInfo(name="my-model", provider="mirror", context_window=32_000, aliases=["mine"]),
        ]
    )
    catalog = Catalog.from_settings(settings)
    default = Catalog.default()
    gpt = catalog.get("gpt-4.1-2025-04-14")
    assert gpt is not None and gpt.name == "GPT-4.1"
    assert gpt.prices == Prices(input=1.0, output=4.0)  # prices replaced as a whole
    assert gpt.capabilities.vision is False  # the flag given ...
    assert gpt.capabilities.tools is True  # ... merged over the catalog's flags
    assert gpt.aliases == ["gpt-4.1-2025-04-14"]  # fields not given are kept
    assert gpt.quality == default.get("gpt-4.1").quality  # type: ignore[union-attr]
    mine = catalog.get("mirror/mine")
    assert mine is not None and mine.name == "my-model"
    assert len(catalog) == len(default) + 1
    # the default catalog is not changed by layering
    assert default.price("gpt-4.1") == Prices(input=2.0, output=8.0, cached_input=0.5)


def test_path_file_layers_under_settings_models(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "models:\n"
        "  - name: gpt-4o\n"  # an override may give only the fields it changes
        "    prices: {input: 2.0, output: 9.0}\n"
        "  - name: house-model\n"
        "    provider: local\n"
        "    context_window: 4096\n"
        "    quality: 10\n"
        "  - name: claude-opus-5-5\n"
        "    context_window: 500000\n",
        "utf-8",
    )
    settings = CatalogSettings(
        path=str(path),
        models=[ModelInfo(name="claude-opus-5-5", provider="anthropic", context_window=200_000)],
    )
    catalog = Catalog.from_settings(settings)
    assert catalog.price("gpt-4o") == Prices(input=2.0, output=9.0)
    assert catalog.get("gpt-4o").context_window == 128000  # type: ignore[union-attr]
    house = catalog.get("house-model")
    assert house is not None and house.provider == "local" and house.quality == 10
    assert catalog.get("claude-opus-5-5").context_window == 200_000  # type: ignore[union-attr]


def test_a_bare_list_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "more.yaml"
    path.write_text("- {name: extra, provider: fake, context_window: 100}\n", "utf-8")
    assert Catalog.from_settings(CatalogSettings(path=str(path))).get("extra") is not None


def test_bad_entry_in_config_names_the_key() -> None:
    models: list[dict[str, Any]] = [
        {"name": "a", "provider": "x", "context_window": 10},
        {"name": "b", "provider": "x", "context_window": 10},
        {"name": "c", "provider": "x", "context_window": 0},
    ]
    with pytest.raises(ConfigError) as caught:
        validate_config({"catalog": {"models": models}})
    keys = [key for key, _ in caught.value.problems]
    assert "catalog.models[2].context_window" in keys


def test_bad_entry_in_catalog_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "models:\n"
        "  - {name: fine, provider: x, context_window: 10}\n"
        "  - {name: gpt-4.1, context_window: -5}\n"
        "  - {name: new, provider: x}\n"
        "  - {name: typo, provider: x, context_window: 10, prise: {input: 1}}\n",
        "utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        Catalog.from_settings(CatalogSettings(path=str(path)))
    assert str(path) in caught.value.source
    problems = dict(caught.value.problems)
    assert set(problems) == {
        "models[1].context_window",
        "models[2].context_window",
        "models[3].prise",
    }
    assert problems["models[3].prise"] == "unknown key"


def test_catalog_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        Catalog.from_settings(CatalogSettings(path=str(missing)))
    assert caught.value.problems[0][0] == "catalog.path"
    broken = tmp_path / "broken.yaml"
    broken.write_text("models: [\n", "utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        Catalog.from_settings(CatalogSettings(path=str(broken)))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("modles: []\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        Catalog.from_settings(CatalogSettings(path=str(wrong)))
    assert caught.value.problems == [("modles", "unknown key (expected only 'models')")]


def test_name_clashes_from_config_name_the_entry() -> None:
    settings = CatalogSettings(
        models=[
            ModelInfo(name="ok", provider="x", context_window=10),
            ModelInfo(name="mine", provider="x", context_window=10, aliases=["gpt-4o"]),
        ]
    )
    with pytest.raises(ConfigError) as caught:
        Catalog.from_settings(settings)
    assert caught.value.problems == [
        ("catalog.models[1].aliases[0]", "'gpt-4o' is already used by model 'gpt-4o'")
    ]
    by_alias = CatalogSettings(
        models=[ModelInfo(name="gpt-4.1-2025-04-14", provider="openai", context_window=10)]
    )
    with pytest.raises(ConfigError) as caught:
        Catalog.from_settings(by_alias)
    ((key, message),) = caught.value.problems
    assert key == "catalog.models[0].name" and "alias of 'gpt-4.1'" in message


# --- packaging -------------------------------------------------------------------------------


def test_the_data_file_is_in_the_built_wheel(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {result.stderr.strip()[-300:]}")
    (wheel,) = tmp_path.glob("switchyard-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert f"switchyard/catalog/{PACKAGED_FILE}" in names
        shipped = archive.read(f"switchyard/catalog/{PACKAGED_FILE}").decode("utf-8")
    assert len(yaml.safe_load(shipped)["models"]) == len(Catalog.default())
