"""Config loading: interpolation, environment overrides, errors that name the key."""

from pathlib import Path

import pytest

from switchyard.config.load import interpolate, load_config
from switchyard.errors import ConfigError

BASE = {
    "providers": {"openai": {"type": "openai", "api_key": "k"}, "f": {"type": "fake"}},
    "models": [{"name": "smart", "deployments": [{"provider": "openai", "model": "gpt-4.1"}]}],
}


def problems(raw: object, **kwargs: object) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config(raw, env={}, **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def test_interpolation_replaces_variables_and_defaults() -> None:
    env = {"KEY": "sk-1", "HOST": "h"}
    data = {"a": "${KEY}", "b": ["x-${HOST}-y", "${MISSING:-fallback}"], "c": "${MISSING}", "d": 3}
    assert interpolate(data, env) == {"a": "sk-1", "b": ["x-h-y", "fallback"], "c": None, "d": 3}


def test_unset_master_key_means_none(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("server: {master_key: ${SWITCHYARD_MASTER_KEY}}\n")
    assert load_config(path, env={}).server.master_key is None
    key = load_config(path, env={"SWITCHYARD_MASTER_KEY": "s3cret"}).server.master_key
    assert key is not None and key.get_secret_value() == "s3cret"


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHYARD_SERVER__PORT", "9999")
    monkeypatch.setenv("SWITCHYARD_PROVIDERS__OPENAI__BASE_URL", "http://127.0.0.1:1/v1")
    config = load_config(BASE)
    assert config.server.port == 9999
    assert config.providers["openai"].base_url == "http://127.0.0.1:1/v1"


def test_embedded_defaults_need_nothing() -> None:
    config = load_config(None, env={})
    assert config.providers["local"].type == "local"
    assert {m.name for m in config.models} == {"local", "local-embed"}
    assert config.storage is not None and config.storage.url.startswith("sqlite+aiosqlite:")


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("server: {port: 7000}\n")
    assert load_config(None, env={"SWITCHYARD_CONFIG": str(path)}).server.port == 7000


def test_unknown_key_is_named() -> None:
    assert problems({**BASE, "providers": {"f": {"type": "fake", "colour": 1}}}) == [
        ("providers.f.colour", "unknown key")
    ]


def test_unknown_provider_type_is_named() -> None:
    [(key, message)] = problems({"providers": {"x": {"type": "openia"}}})
    assert key == "providers.x.type" and "openia" in message and "openai" in message


def test_deployment_referring_to_a_missing_provider_is_named() -> None:
    raw = {
        **BASE,
        "models": [
            {
                "name": "a",
                "deployments": [
                    {"provider": "openai", "model": "m"},
                    {"provider": "claud", "model": "m"},
                ],
            }
        ],
    }
    [(key, message)] = problems(raw)
    assert key == "models[0].deployments[1].provider"
    assert "claud" in message and "openai" in message


def test_bad_values_are_named() -> None:
    raw = {
        **BASE,
        "router": {"retries": -1},
        "models": [
            {
                "name": "a",
                "strategy": "random",
                "deployments": [{"provider": "openai", "model": "m", "timeout": {"total": 0}}],
            }
        ],
    }
    keys = {key for key, _ in problems(raw)}
    assert keys == {
        "router.retries",
        "models[0].strategy",
        "models[0].deployments[0].timeout.total",
    }


def test_duplicate_alias_is_named() -> None:
    raw = {**BASE, "models": BASE["models"] * 2}  # type: ignore[operator]
    assert problems(raw)[0][0] == "models[1].name"


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    assert problems(tmp_path / "missing.yaml")[0][0] == "(file)"
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [unclosed\n")
    assert "YAML" in problems(bad)[0][1]


def test_timeout_accepts_a_number_or_an_object() -> None:
    raw = {
        **BASE,
        "models": [
            {
                "name": "a",
                "deployments": [
                    {"provider": "openai", "model": "m", "timeout": 20},
                    {
                        "provider": "f",
                        "model": "m",
                        "timeout": {"connect": 1, "first_token": 2, "total": 3},
                    },
                ],
            }
        ],
    }
    first, second = load_config(raw, env={}).models[0].deployments
    assert first.timeout is not None and first.timeout.total == 20
    assert second.timeout is not None and (second.timeout.connect, second.timeout.first_token) == (
        1,
        2,
    )


def test_tests_cannot_leave_loopback() -> None:
    import socket

    with socket.socket() as sock, pytest.raises(RuntimeError, match="only loopback"):
        sock.connect(("93.184.216.34", 80))
