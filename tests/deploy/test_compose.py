"""deploy/compose.yaml: the gateway, PostgreSQL and Redis with health checks and start-up
order, secrets only from the environment, and a mounted config that switchyard's own loader
accepts and that points at those services; Prometheus, Grafana and Redpanda in profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from switchyard.config.load import load_config, read_yaml
from switchyard.server.run import CUT_GRACE
from tests.deploy.compose import (
    compose,
    interpolate,
    interpolated,
    references,
    seconds,
    service,
)
from tests.deploy.files import DEPLOY, looks_secret, tool_module

# what a user exports before `docker compose up` (README, "Deploying")
USER_ENV = {"SWITCHYARD_MASTER_KEY": "mk-test", "POSTGRES_PASSWORD": "pw-test"}


def environment(name: str) -> dict[str, str]:
    env: dict[str, str] = service(name)["environment"]
    return env


def resolved(name: str) -> dict[str, str]:
    return {key: interpolate(value, USER_ENV) for key, value in environment(name).items()}


def mounts(name: str) -> dict[str, Path]:
    """Bind mounts of a service: target -> source file on this machine."""
    found: dict[str, Path] = {}
    for volume in service(name).get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            found[target] = (DEPLOY / source).resolve()
    return found


def config_path() -> Path:
    return mounts("gateway")[environment("gateway")["SWITCHYARD_CONFIG"]]


def test_the_compose_specification_accepts_the_file() -> None:
    """The compose_spec parser (Rust, strict: unknown keys, bad durations, conditions or
    restart policies are errors), on the file as Compose reads it: anchors merged, variables
    interpolated with what the README says to export."""
    spec = tool_module("compose_spec")
    parsed = spec.PyCompose.from_yaml(yaml.safe_dump(interpolated(compose(), USER_ENV)))
    assert sorted(parsed.service_names()) == sorted(compose()["services"])


def test_the_default_services_and_the_optional_profiles() -> None:
    services = compose()["services"]
    default = {name for name, s in services.items() if "profiles" not in s}
    assert default == {"gateway", "migrate", "postgres", "redis"}
    profiles = {name: s["profiles"] for name, s in services.items() if "profiles" in s}
    assert profiles == {
        "prometheus": ["monitoring"],
        "grafana": ["monitoring"],
        "redpanda": ["events"],
    }


def test_health_checks_and_start_up_order() -> None:
    for name in ("postgres", "redis", "gateway", "redpanda"):
        check = service(name)["healthcheck"]
        assert check["test"][0] == "CMD" and check["interval"] and check["retries"] >= 3, name
    assert service("postgres")["healthcheck"]["test"][1] == "pg_isready"
    assert service("redis")["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert service("gateway")["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert service("migrate")["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert service("migrate")["command"] == ["db", "upgrade"]
    assert service("migrate")["restart"] == "no"


def test_migration_and_gateway_run_one_image_one_environment_one_config() -> None:
    gateway, migrate = service("gateway"), service("migrate")
    for key in ("image", "build", "environment", "volumes"):
        assert gateway[key] == migrate[key], key
    assert gateway["build"]["context"] == ".." and (DEPLOY / "../Dockerfile").is_file()
    assert gateway["command"] == ["serve", "--host", "0.0.0.0"]
    assert environment("gateway")["SWITCHYARD_CONFIG"] == "/etc/switchyard/switchyard.yaml"
    assert config_path() == DEPLOY / "switchyard.compose.yaml"
    for name in ("gateway", "prometheus", "grafana"):
        for source in mounts(name).values():
            assert source.exists(), f"{name} mounts {source}, which does not exist"


def test_secrets_come_only_from_the_users_environment() -> None:
    for name, definition in compose()["services"].items():
        for key, value in definition.get("environment", {}).items():
            if looks_secret(key):
                assert references(value), f"{name}.{key}: a literal secret"
                assert all(kind != "-" or value.endswith(":-}") for _, kind in references(value))
    required = ("SWITCHYARD_MASTER_KEY", "?")
    assert references(environment("gateway")["SWITCHYARD_MASTER_KEY"]) == [required]
    password = [("POSTGRES_PASSWORD", "?")]
    assert references(environment("gateway")["PGPASSWORD"]) == password
    assert references(environment("postgres")["POSTGRES_PASSWORD"]) == password
    with pytest.raises(LookupError, match="SWITCHYARD_MASTER_KEY"):
        interpolate(environment("gateway")["SWITCHYARD_MASTER_KEY"], {})
    raw = read_yaml(config_path().read_text(), "compose config")
    assert "master_key" not in raw["server"], "the master key comes from the environment"
    assert ":@" not in raw["storage"]["url"], "the password comes from PGPASSWORD"


def test_the_urls_name_the_services_and_their_credentials() -> None:
    env, postgres = resolved("gateway"), resolved("postgres")
    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme == "postgresql+asyncpg" and database.password is None
    assert (database.hostname, database.port) == ("postgres", 5432)
    assert database.username == postgres["POSTGRES_USER"]
    assert database.path == "/" + postgres["POSTGRES_DB"]
    assert env["PGPASSWORD"] == postgres["POSTGRES_PASSWORD"] == "pw-test"
    redis = urlsplit(env["REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)


def test_the_mounted_config_validates_and_shares_state_through_the_services() -> None:
    env = resolved("gateway")
    config = load_config(config_path(), env=env)
    assert config.storage is not None and config.cache is not None
    assert config.storage.url == env["DATABASE_URL"]
    assert config.storage.redis_url == env["REDIS_URL"]  # revocations reach every replica
    assert (config.cache.backend, config.cache.url) == ("redis", env["REDIS_URL"])
    assert (config.limits.backend, config.limits.url) == ("redis", env["REDIS_URL"])
    store = config.router.breaker_store
    assert (store.backend, store.url) == ("redis", env["REDIS_URL"])
    assert config.server.host == "0.0.0.0"
    # without DATABASE_URL and REDIS_URL the file's defaults are the same services
    assert load_config(config_path(), env={}).storage == config.storage
    assert {a.name for a in config.models} >= {"local", "local-embed"}


def test_ports_health_and_the_drain_fit_the_config() -> None:
    config = load_config(config_path(), env=resolved("gateway"))
    gateway = service("gateway")
    (published,) = gateway["ports"]
    assert published.rsplit(":", 1)[1] == str(config.server.port)
    probe = gateway["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"]
    assert f"127.0.0.1:{config.server.port}/readyz" in probe[3]
    grace = seconds(gateway["stop_grace_period"])
    assert grace > config.server.drain_seconds + CUT_GRACE, "SIGKILL would cut the drain"
    assert gateway["read_only"] is True and "/tmp" in gateway["tmpfs"]


def prometheus_config() -> dict[str, Any]:
    source = mounts("prometheus")["/etc/prometheus/prometheus.yml"]
    data: dict[str, Any] = yaml.safe_load(source.read_text())
    return data


def test_prometheus_scrapes_every_gateway_replica() -> None:
    config = load_config(config_path(), env=resolved("gateway"))
    (job,) = prometheus_config()["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    (lookup,) = job["dns_sd_configs"]
    assert lookup == {"names": ["gateway"], "type": "A", "port": config.server.port}


def test_grafana_is_provisioned_with_the_dashboard_and_the_prometheus_source() -> None:
    grafana = mounts("grafana")
    provisioning = grafana["/etc/grafana/provisioning"]
    (source,) = yaml.safe_load((provisioning / "datasources/prometheus.yaml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    for name, port in (("prometheus", 9090), ("grafana", 3000)):
        assert service(name)["ports"] == [f"127.0.0.1:{port}:{port}"], "this machine only"
    (provider,) = yaml.safe_load((provisioning / "dashboards/switchyard.yaml").read_text())[
        "providers"
    ]
    dashboards = {t: s for t, s in grafana.items() if t.startswith(provider["options"]["path"])}
    assert list(dashboards.values()) == [DEPLOY / "grafana" / "switchyard.json"]
    assert service("grafana")["environment"]["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_a_plain_up_needs_only_the_default_services_secrets() -> None:
    """Compose interpolates every service, those of profiles not started too: a required
    variable anywhere would stop `docker compose up` (README: two variables to export)."""
    required = {
        name
        for definition in compose()["services"].values()
        for value in definition.get("environment", {}).values()
        for name, kind in references(value)
        if kind == "?"
    }
    assert required == set(USER_ENV)
