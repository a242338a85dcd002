"""The mark of tests that run the real local model (SmolLM2 in llama.cpp): ``local_model``,
skipped on a developer's machine without the ``local`` extra, failing under CI=true."""

from __future__ import annotations

import importlib.util
import os

import pytest

INSTALLED = all(
    importlib.util.find_spec(name) is not None
    for name in ("xllamacpp", "numpy", "tokenizers", "safetensors")
)
needs_local_model = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        not INSTALLED and os.environ.get("CI") != "true",
        reason="the local extra is not installed: pip install 'switchyard[local]'",
    ),
]

__all__ = ["INSTALLED", "needs_local_model"]
