"""all-MiniLM-L6-v2 in numpy: sentence embeddings without torch.

A BERT encoder (the sentence-transformers layout: ``config.json``, ``tokenizer.json``,
``model.safetensors``) run as plain numpy: embeddings + LayerNorm, then per layer multi-head
self-attention and a GELU feed-forward block (each followed by a residual and LayerNorm), then
mean pooling over the real tokens and L2 normalisation. float32 throughout; numpy's BLAS does
the matrix products (and releases the GIL while it does).

Verified against the similarity matrix the sentence-transformers documentation publishes for
this model (see ``tests/providers/test_local.py``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from switchyard.providers.local.shared import SharedModels

Array = npt.NDArray[np.float32]

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 128 and is used up to 256 word pieces
BATCH_SIZE = 32


def erf(x: Array) -> Array:
    """Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7), vectorised: numpy has no erf."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    result: Array = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return result


def gelu(x: Array) -> Array:
    """BERT's exact GELU, ``x * Phi(x)``."""
    return (0.5 * x * (1.0 + erf(x / np.float32(math.sqrt(2.0))))).astype(np.float32)


def layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    result: Array = ((x - mean) / np.sqrt(var + eps) * weight + bias).astype(np.float32)
    return result


@dataclass(frozen=True)
class _Layer:
    qkv_w: Array  # (hidden, 3 * hidden): query, key and value projections side by side
    qkv_b: Array
    out_w: Array
    out_b: Array
    ln1_w: Array
    ln1_b: Array
    ff_in_w: Array
    ff_in_b: Array
    ff_out_w: Array
    ff_out_b: Array
    ln2_w: Array
    ln2_b: Array


class MiniLMEncoder:
    def __init__(self, folder: Path, max_tokens: int | None = None) -> None:
        config = json.loads((folder / "config.json").read_text())
        if max_tokens is None:
            st_config = folder / "sentence_bert_config.json"
            st = json.loads(st_config.read_text()) if st_config.is_file() else {}
            max_tokens = int(st.get("max_seq_length") or MAX_TOKENS)
        if config.get("model_type") != "bert" or config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{folder} is not a BERT model with GELU activations")
        self.folder = folder
        self.dimensions = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_tokens = min(max_tokens, int(config["max_position_embeddings"]))

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json pads every input to 128: pad to the batch's longest instead.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        pad_id = int(config.get("pad_token_id", 0))
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token=self.tokenizer.id_to_token(pad_id))

        weights = load_file(str(folder / "model.safetensors"))
        w = {k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in weights.items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [
            _layer(w, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))
        ]

    def encode(self, texts: Sequence[str]) -> tuple[Array, int]:
        """Unit vectors, one row per text in order, and the number of tokens read."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        tokens = 0
        # Similar lengths together: less padding to compute.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            types = np.array([e.type_ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
            out[rows] = self.forward(ids, types, mask)
            tokens += int(mask.sum())
        return out, tokens

    def forward(
        self, ids: npt.NDArray[np.int64], types: npt.NDArray[np.int64], mask: Array
    ) -> Array:
        """Sentence vectors for a padded batch: ``ids``, ``types`` and ``mask`` are
        (batch, length)."""
        batch, length = ids.shape
        x = self.word[ids] + self.position[np.arange(length)][None, :, :] + self.token_type[types]
        # Tokens as rows of one 2-D matrix: each projection is then a single BLAS call.
        x = layer_norm(x.reshape(batch * length, self.dimensions), *self.emb_ln, self.eps)
        # Padding gets a large negative score so softmax gives it (almost exactly) no weight.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            x = self._layer(x, batch, bias, layer)
        tokens = x.reshape(batch, length, self.dimensions)
        summed = (tokens * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        vectors: Array = (pooled / norms).astype(np.float32)
        return vectors

    def _layer(self, x: Array, batch: int, bias: Array, p: _Layer) -> Array:
        rows, hidden = x.shape
        length, head_dim = rows // batch, hidden // self.heads
        qkv = x @ p.qkv_w + p.qkv_b  # (rows, 3 * hidden): queries, keys, values
        qkv = qkv.reshape(batch, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # each (batch, heads, length, head_dim)
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(head_dim)) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(rows, hidden)
        x = layer_norm(context @ p.out_w + p.out_b + x, p.ln1_w, p.ln1_b, self.eps)
        h = gelu(x @ p.ff_in_w + p.ff_in_b)
        return layer_norm(h @ p.ff_out_w + p.ff_out_b + x, p.ln2_w, p.ln2_b, self.eps)


def _layer(w: dict[str, Any], prefix: str) -> _Layer:
    """A layer's weights, transposed once (torch stores ``out x in``) for ``x @ W``."""

    def t(name: str) -> Array:
        return np.ascontiguousarray(w[prefix + name + ".weight"].T)

    def b(name: str) -> Array:
        return np.asarray(w[prefix + name + ".bias"])

    attention = ("attention.self.query", "attention.self.key", "attention.self.value")
    return _Layer(
        qkv_w=np.ascontiguousarray(np.concatenate([t(n) for n in attention], axis=1)),
        qkv_b=np.concatenate([b(n) for n in attention]),
        out_w=t("attention.output.dense"),
        out_b=b("attention.output.dense"),
        ln1_w=np.asarray(w[prefix + "attention.output.LayerNorm.weight"]),
        ln1_b=np.asarray(w[prefix + "attention.output.LayerNorm.bias"]),
        ff_in_w=t("intermediate.dense"),
        ff_in_b=b("intermediate.dense"),
        ff_out_w=t("output.dense"),
        ff_out_b=b("output.dense"),
        ln2_w=np.asarray(w[prefix + "output.LayerNorm.weight"]),
        ln2_b=np.asarray(w[prefix + "output.LayerNorm.bias"]),
    )


def _close(encoder: MiniLMEncoder) -> None:
    """Nothing to stop: the arrays go when the last reference does."""


# Every encoder in the process, by folder: one load per folder.
ENCODERS: SharedModels[Path, MiniLMEncoder] = SharedModels(MiniLMEncoder, _close)

__all__ = ["ENCODERS", "MAX_TOKENS", "MiniLMEncoder", "erf", "gelu", "layer_norm"]
