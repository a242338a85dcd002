"""What compose runs, run here without Docker: the migrate service's `switchyard db upgrade`
and the gateway's `switchyard serve` on deploy/switchyard.compose.yaml, against the real
PostgreSQL (a throwaway database) and Redis on 127.0.0.1; then the image's and compose's
health checks, as written in the Dockerfile and compose.yaml, against that server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.deploy.compose import service
from tests.deploy.dockerfile import Instruction, parse
from tests.deploy.files import DEPLOY, DOCKERFILE
from tests.e2e.served_process import ServerProcess, free_port, serve_process
from tests.services import REDIS_URL, require_redis

CONFIG = DEPLOY / "switchyard.compose.yaml"
MASTER_KEY = "sk-deploy-test-master"


@pytest.fixture
def redis_url() -> str:
    return require_redis(REDIS_URL)


@pytest.fixture
def environment(empty_postgres_url: str, redis_url: str) -> dict[str, str]:
    """The gateway's environment in compose, with this machine's services."""
    return {
        "DATABASE_URL": empty_postgres_url,
        "REDIS_URL": redis_url,
        "SWITCHYARD_MASTER_KEY": MASTER_KEY,
        "SWITCHYARD_CONFIG": str(CONFIG),
    }


@pytest.fixture
def gateway(environment: dict[str, str], tmp_path: Path) -> Iterator[ServerProcess]:
    migrate = subprocess.run(
        [sys.executable, "-m", "switchyard", *service("migrate")["command"]],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stderr
    text = CONFIG.read_text()
    assert "  port: 8080\n" in text
    # the file as mounted, on a free port; loopback only here (the image listens on 0.0.0.0)
    config = text.replace("  port: 8080\n", "  port: PORT\n")
    with serve_process(config, tmp_path, environment, args=["--host", "127.0.0.1"]) as server:
        yield server


def run_check(command: list[str], port: int, config_port: int = 8080) -> int:
    """A health check's command as the container runs it, pointed at ``port``."""
    command = [word.replace(f":{config_port}", f":{port}") for word in command]
    env = {**os.environ, "SWITCHYARD_SERVER__PORT": str(port)}
    return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode


def image_health_check() -> list[str]:
    (check,) = parse(DOCKERFILE).stage("runtime").all("HEALTHCHECK")
    words = Instruction("CMD", check.text.partition(" CMD ")[2]).words()
    return [sys.executable, *words[1:]]  # the image's python is this venv's here


def test_the_compose_config_serves_with_postgres_and_redis(gateway: ServerProcess) -> None:
    assert httpx.get(f"{gateway.url}/readyz").status_code == 200
    assert httpx.get(f"{gateway.url}/api/v1/monitoring/health").status_code == 401
    health = httpx.get(
        f"{gateway.url}/api/v1/monitoring/health",
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    ).json()
    assert health["info"]["database"]["status"] == "up"
    assert health["info"]["redis"]["status"] == "up"
    assert health["info"]["redis"]["details"]["uses"] == ["breakers", "cache", "keys", "limits"]
    assert "llm_requests_total" in httpx.get(f"{gateway.url}/metrics").text
    port = int(gateway.url.rsplit(":", 1)[1])
    # the Dockerfile's HEALTHCHECK and compose's gateway check pass against it ...
    assert run_check(image_health_check(), port) == 0
    compose_check = service("gateway")["healthcheck"]["test"][1:]
    assert run_check([sys.executable, *compose_check[1:]], port) == 0
    assert gateway.stop(timeout=30) == 0  # SIGTERM: drained, ledger flushed, exit 0
    # ... and fail once it is gone
    assert run_check(image_health_check(), port) != 0
    assert run_check([sys.executable, *compose_check[1:]], port) != 0


def test_the_health_checks_fail_on_a_port_nobody_serves() -> None:
    port = free_port()
    assert run_check(image_health_check(), port) != 0
