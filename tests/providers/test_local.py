"""The ``local`` provider: pure translation, file lookup, the thread bridge (with a scripted
server), and the real SmolLM2 / MiniLM models (marked ``local_model``).

The real-model tests skip only when the ``local`` extra is missing outside CI; with CI=true a
missing runtime fails them. The model loads once per process (the runtime is process-wide and
independent of the event loop, so function-scoped loops share it).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ProviderUnavailable,
    RateLimited,
    UpstreamProtocolError,
)
from switchyard.providers.local import model_files, translate
from switchyard.providers.local.adapter import LocalProvider
from switchyard.providers.local.llama_runtime import LlamaRuntime, RuntimeConfig
from switchyard.providers.local.settings import LocalSettings
from switchyard.providers.local.shared import SharedModels
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    EmbeddingRequest,
    JsonSchemaFormat,
    Message,
    NamedToolChoice,
    ResponseFormat,
    Tool,
    ToolCall,
)

_EXTRA = ("xllamacpp", "numpy", "tokenizers", "safetensors")
LOCAL_INSTALLED = (
    all(importlib.util.find_spec(name) is not None for name in _EXTRA)
    and model_files.default_chat_model() is not None
    and model_files.default_embedding_model() is not None
)
needs_local = pytest.mark.skipif(
    not LOCAL_INSTALLED and os.environ.get("CI") != "true",
    reason="the local extra is not installed: pip install 'switchyard[local]'",
)


def chat_request(text: str = "hello", **fields: Any) -> ChatRequest:
    return ChatRequest(model="local-chat", messages=[Message(role="user", content=text)], **fields)


def body_for(request: ChatRequest, *, allow_tools: bool = False) -> dict[str, Any]:
    return translate.to_llama_request(request, default_max_tokens=64, allow_tools=allow_tools)


# -- translation (pure) -----------------------------------------------------------------------


def test_request_maps_messages_and_sampling() -> None:
    request = ChatRequest(
        model="anything",
        messages=[
            Message(role="developer", content="be brief"),
            Message(
                role="user",
                content=[{"type": "text", "text": "hi "}, {"type": "text", "text": "there"}],
            ),
            Message(role="assistant", content="hello"),
        ],
        temperature=0.2,
        top_p=0.9,
        stop=["\n\n"],
        seed=7,
        presence_penalty=0.5,
        extra={"top_k": 20, "repeat_penalty": 1.1},
    )
    body = body_for(request)
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi there"},
        {"role": "assistant", "content": "hello"},
    ]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 64  # the provider's default when the request has none
    assert (body["temperature"], body["top_p"], body["stop"], body["seed"]) == (
        0.2,
        0.9,
        ["\n\n"],
        7,
    )
    assert body["presence_penalty"] == 0.5 and "frequency_penalty" not in body
    assert body["top_k"] == 20 and body["repeat_penalty"] == 1.1
    assert "model" not in body and "response_format" not in body and "tools" not in body


def test_request_max_tokens_wins_over_default() -> None:
    assert body_for(chat_request(max_tokens=5))["max_tokens"] == 5


def test_tool_history_is_kept() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            Message(role="user", content="weather?"),
            Message(
                role="assistant", tool_calls=[ToolCall(id="c1", name="get", arguments='{"q":1}')]
            ),
            Message(role="tool", tool_call_id="c1", content="sunny"),
        ],
    )
    assistant, tool = body_for(request)["messages"][1:]
    assert assistant["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "get", "arguments": '{"q":1}'}}
    ]
    assert tool == {"role": "tool", "content": "sunny", "tool_call_id": "c1"}


def test_response_formats() -> None:
    assert translate.convert_response_format(ResponseFormat(type="text")) is None
    assert translate.convert_response_format(ResponseFormat(type="json_object")) == {
        "type": "json_object"
    }
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    converted = translate.convert_response_format(
        ResponseFormat(
            type="json_schema",
            json_schema=JsonSchemaFormat(name="thing", schema_=schema, strict=True),
        )
    )
    assert converted == {
        "type": "json_schema",
        "json_schema": {"name": "thing", "schema": schema, "strict": True},
    }


def test_tools_are_refused_unless_enabled() -> None:
    tools = [Tool(name="get_weather", parameters={"type": "object", "properties": {}})]
    with pytest.raises(InvalidRequest) as refused:
        body_for(chat_request(tools=tools))
    assert refused.value.param == "tools"
    # tool_choice "none" means the tools are not used: nothing to refuse, nothing sent
    assert "tools" not in body_for(chat_request(tools=tools, tool_choice="none"))
    body = body_for(
        chat_request(tools=tools, tool_choice=NamedToolChoice(name="get_weather")), allow_tools=True
    )
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"extra": {"stream": False}}, "extra.stream"),
    ],
)
def test_invalid_requests_name_the_field(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        body_for(chat_request(**fields))
    assert error.value.param == param


def test_images_and_empty_messages_are_refused() -> None:
    image = Message(role="user", content=[{"type": "image", "url": "data:image/png;base64,AAAA"}])
    with pytest.raises(InvalidRequest):
        body_for(ChatRequest(model="m", messages=[image]))
    with pytest.raises(InvalidRequest):
        body_for(ChatRequest(model="m", messages=[]))


def llama_chunk(**fields: Any) -> dict[str, Any]:
    return {
        "created": 1700000000,
        "id": "chatcmpl-abc",
        "object": "chat.completion.chunk",
        **fields,
    }


# Chunks as llama.cpp's server streams them (captured from xllamacpp).
LLAMA_STREAM = [
    llama_chunk(
        choices=[
            {"finish_reason": None, "index": 0, "delta": {"role": "assistant", "content": None}}
        ],
        system_fingerprint="b1",
    ),
    llama_chunk(choices=[{"finish_reason": None, "index": 0, "delta": {"content": "Hel"}}]),
    llama_chunk(choices=[{"finish_reason": None, "index": 0, "delta": {"content": "lo"}}]),
    llama_chunk(choices=[{"finish_reason": "length", "index": 0, "delta": {}}]),
    llama_chunk(
        choices=[],
        usage={
            "completion_tokens": 2,
            "prompt_tokens": 30,
            "total_tokens": 32,
            "prompt_tokens_details": {"cached_tokens": 24},
        },
    ),
]


def translate_all(raw_chunks: list[dict[str, Any]]) -> list[ChatChunk]:
    translator = translate.ChunkTranslator(model="local-chat")
    chunks = [c for raw in raw_chunks for c in translator.feed(raw)]
    return [*chunks, translator.finish()]


def test_stream_translation_merges_finish_and_usage() -> None:
    chunks = translate_all(LLAMA_STREAM)
    assert [c.text for c in chunks] == ["Hel", "lo", None]
    assert [c.role for c in chunks] == ["assistant", None, None]
    final = chunks[-1]
    assert final.finish_reason == "length"
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (30, 2)
    assert final.usage.cached_input_tokens == 24
    assert {c.id for c in chunks} == {"chatcmpl-abc"} and chunks[0].model == "local-chat"

    response = translate.collect(chunks, model="local-chat", provider="local")
    assert response.text == "Hello" and response.choices[0].finish_reason == "length"
    assert response.usage.output_tokens == 2 and response.provider == "local"


def test_stream_tool_call_deltas_are_assembled() -> None:
    raw = [
        {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city":'}}]}}]},
        {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": '"Paris"}'}}]}}]},
        {"id": "x", "choices": [{"index": 0, "finish_reason": "tool_calls", "delta": {}}]},
    ]  # fmt: skip
    response = translate.collect(translate_all(raw), model="m", provider="local")
    assert response.choices[0].finish_reason == "tool_calls"
    assert response.message.tool_calls == [
        ToolCall(id="call_1", name="get_weather", arguments='{"city":"Paris"}')
    ]


def test_errors_map_onto_the_taxonomy() -> None:
    translator = translate.ChunkTranslator(model="m")
    too_long = {
        "error": {
            "code": 400,
            "message": "request (2031 tokens) exceeds the available context size (512 tokens)",
            "type": "exceed_context_size_error",
        }
    }
    with pytest.raises(ContextLengthExceeded):
        translator.feed(too_long)
    with pytest.raises(InvalidRequest):
        translator.feed({"error": {"code": 400, "message": "bad", "type": "invalid_request_error"}})
    with pytest.raises(RateLimited):
        translator.feed({"error": {"code": 429, "message": "busy"}})
    with pytest.raises(ProviderUnavailable):
        translator.feed({"error": {"code": 503, "message": "Loading model"}})
    with pytest.raises(UpstreamProtocolError):  # a stream that ends without a finish reason
        translate.ChunkTranslator(model="m").finish()


# -- model files --------------------------------------------------------------------------------


def test_package_dir_does_not_import_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "broken_model_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('needs llama-cpp-python')\n")
    (package / "weights.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert model_files.package_dir("broken_model_pkg", "broken-model-pkg") == package
    assert "broken_model_pkg" not in sys.modules
    assert model_files.package_dir("no_such_pkg_xyz", "no-such-pkg-xyz") is None


def test_configured_paths_are_checked(tmp_path: Path) -> None:
    gguf = tmp_path / "Tiny-Model.Q4.gguf"
    gguf.write_bytes(b"GGUF")
    assert model_files.chat_model_path(str(gguf)) == gguf.resolve()
    with pytest.raises(FileNotFoundError):
        model_files.chat_model_path(str(tmp_path / "missing.gguf"))
    with pytest.raises(FileNotFoundError):
        model_files.embedding_model_path(str(tmp_path))  # no config/tokenizer/weights
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        (tmp_path / name).write_text("{}")
    assert model_files.embedding_model_path(str(tmp_path)) == tmp_path.resolve()
    assert model_files.model_id(str(gguf), "default") == "tiny-model.q4"
    assert model_files.model_id(None, "default") == "default"


@needs_local
def test_default_model_files_are_found() -> None:
    gguf = model_files.default_chat_model()
    assert gguf is not None and gguf.suffix == ".gguf" and gguf.stat().st_size > 50_000_000
    folder = model_files.default_embedding_model()
    assert folder is not None and model_files.is_embedding_folder(folder)


def test_missing_model_is_a_clear_provider_error(tmp_path: Path) -> None:
    provider = LocalProvider("local", LocalSettings(model_path=str(tmp_path / "nope.gguf")))
    with pytest.raises(ProviderUnavailable) as error:
        asyncio.run(provider.health_check())
    assert error.value.provider == "local" and "nope.gguf" in error.value.message


def test_importing_the_provider_loads_no_runtime() -> None:
    code = (
        "import sys, switchyard.providers.local.adapter, switchyard.providers.local; "
        "print(sorted(m for m in ('xllamacpp', 'numpy', 'tokenizers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_runtime_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # makes `import xllamacpp` fail
    provider = LocalProvider("local", LocalSettings())
    if model_files.default_chat_model() is None:
        pytest.skip("no default model to get past the file check")
    with pytest.raises(ProviderUnavailable) as error:
        asyncio.run(provider.health_check())
    assert "pip install 'switchyard[local]'" in error.value.message


# -- shared models and the thread bridge (no model) ---------------------------------------------


def test_shared_models_load_once_and_close_with_the_last_user() -> None:
    closed: list[str] = []

    def slow_load(key: str) -> str:
        time.sleep(0.05)
        return key.upper()

    models: SharedModels[str, str] = SharedModels(slow_load, closed.append)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(models.acquire("a"))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["A"] * 4 and models.loads == 1 and models.users("a") == 4
    for _ in range(3):
        models.release("a")
    assert closed == []
    models.release("a")
    assert closed == ["A"] and models.users("a") == 0


class ScriptedServer:
    """Stands in for ``xllamacpp.Server``: streams ``chunks`` (forever when ``endless``),
    stopping when the callback returns True, as llama.cpp does."""

    def __init__(self, chunks: list[dict[str, Any]], endless: bool = False) -> None:
        self.chunks = chunks
        self.endless = endless
        self.returned = threading.Event()
        self.sent = 0

    def handle_chat_completions(
        self, body: dict[str, Any], callback: Callable[[dict[str, Any]], bool]
    ) -> None:
        try:
            while True:
                for chunk in self.chunks:
                    self.sent += 1
                    if callback(chunk):
                        return
                    time.sleep(0.001)
                if not self.endless:
                    return
        finally:
            self.returned.set()


def scripted_runtime(server: ScriptedServer) -> LlamaRuntime:
    return LlamaRuntime(server, RuntimeConfig(Path("x.gguf"), 512, 1, 1))


async def test_bridge_delivers_every_chunk_in_order() -> None:
    runtime = scripted_runtime(ScriptedServer(LLAMA_STREAM))
    received = [chunk async for chunk in runtime.stream({})]
    assert received == LLAMA_STREAM
    runtime.close()


async def test_closing_the_stream_stops_generation_upstream() -> None:
    server = ScriptedServer([{"choices": [{"delta": {"content": "x"}}]}], endless=True)
    runtime = scripted_runtime(server)
    stream = runtime.stream({})
    assert (await anext(stream))["choices"]
    await stream.aclose()
    assert await asyncio.to_thread(server.returned.wait, 5)
    runtime.close()


async def test_cancelling_the_consumer_stops_generation_upstream() -> None:
    server = ScriptedServer([{"choices": [{"delta": {"content": "x"}}]}], endless=True)
    runtime = scripted_runtime(server)
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in runtime.stream({}):
            first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(server.returned.wait, 5)
    runtime.close()


async def test_a_request_cancelled_while_queued_never_runs() -> None:
    server = ScriptedServer([{"choices": [{"delta": {"content": "x"}}]}], endless=True)
    runtime = scripted_runtime(server)  # parallel=1: the second request waits for the first
    calls = 0
    original = server.handle_chat_completions

    def counting(body: dict[str, Any], callback: Callable[[dict[str, Any]], bool]) -> None:
        nonlocal calls
        calls += 1
        original(body, callback)

    server.handle_chat_completions = counting  # type: ignore[method-assign]
    busy = runtime.stream({})
    await anext(busy)
    queued = asyncio.create_task(anext(runtime.stream({})))
    await asyncio.sleep(0.05)
    assert not queued.done()
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    await busy.aclose()
    await asyncio.to_thread(runtime.close)
    assert calls == 1


async def test_closing_the_runtime_ends_streams_in_flight() -> None:
    server = ScriptedServer([{"choices": [{"delta": {"content": "x"}}]}], endless=True)
    runtime = scripted_runtime(server)
    with pytest.raises(ProviderUnavailable, match="shut down"):
        async for _ in runtime.stream({}):
            await asyncio.to_thread(runtime.close)  # returns once the worker has stopped
    assert server.returned.is_set()


async def test_error_chunks_and_raised_errors_become_taxonomy_errors() -> None:
    class Raising:
        def handle_chat_completions(self, body: Any, callback: Any) -> None:
            raise RuntimeError("image input is not supported")

    runtime = LlamaRuntime(Raising(), RuntimeConfig(Path("x.gguf"), 512, 1, 1))
    with pytest.raises(InvalidRequest, match="image input"):
        async for _ in runtime.stream({}):
            pass
    runtime.close()
    with pytest.raises(ProviderUnavailable):  # a closed runtime takes no more requests
        async for _ in runtime.stream({}):
            pass


# -- numpy encoder pieces -------------------------------------------------------------------


@needs_local
def test_erf_matches_the_standard_library() -> None:
    import numpy as np

    from switchyard.providers.local.minilm import erf

    xs = np.linspace(-5, 5, 2001, dtype=np.float32)
    worst = max(abs(float(y) - math.erf(float(x))) for x, y in zip(xs, erf(xs), strict=True))
    assert worst < 1e-6


# -- the real models ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalProvider]:
    local = LocalProvider("local", LocalSettings(context_size=1024, default_max_tokens=32))
    yield local
    asyncio.run(local.aclose())


PROMPT = "What is the capital of France? Answer in one word."


@needs_local
@pytest.mark.local_model
async def test_real_chat(provider: LocalProvider) -> None:
    response = await provider.chat(chat_request(PROMPT, temperature=0, max_tokens=8))
    assert response.text.strip()
    assert response.choices[0].finish_reason in ("stop", "length")
    assert 10 < response.usage.input_tokens < 100
    assert 1 <= response.usage.output_tokens <= 8
    assert response.provider == "local" and response.model == "local-chat"


@needs_local
@pytest.mark.local_model
async def test_real_stream_reassembles(provider: LocalProvider) -> None:
    chunks = [c async for c in provider.stream(chat_request(PROMPT, temperature=0, max_tokens=8))]
    assert chunks[0].role == "assistant"
    assert all(c.finish_reason is None and c.usage is None for c in chunks[:-1])
    final = chunks[-1]
    assert final.finish_reason in ("stop", "length") and final.usage is not None
    text = "".join(c.text or "" for c in chunks)
    assert text.strip() and final.usage.output_tokens >= len(chunks) - 1


@needs_local
@pytest.mark.local_model
async def test_concurrent_requests_both_complete(provider: LocalProvider) -> None:
    first, second = await asyncio.wait_for(
        asyncio.gather(
            provider.chat(chat_request("Name a colour.", temperature=0, max_tokens=6)),
            provider.chat(chat_request("Name an animal.", temperature=0, max_tokens=6)),
        ),
        timeout=120,
    )
    assert first.text.strip() and second.text.strip()


@needs_local
@pytest.mark.local_model
async def test_cancelled_stream_does_not_hang(provider: LocalProvider) -> None:
    stream = provider.stream(chat_request("Count from 1 to 500.", temperature=0, max_tokens=500))
    seen = 0
    async for chunk in stream:
        seen += 1 if chunk.text else 0
        if seen >= 3:
            break
    await asyncio.wait_for(stream.aclose(), timeout=10)  # type: ignore[attr-defined]
    # the slot is free again: with parallel=1 this would wait for 500 tokens otherwise
    response = await asyncio.wait_for(
        provider.chat(chat_request("Say hi.", temperature=0, max_tokens=4)), timeout=60
    )
    assert response.text.strip()


@needs_local
@pytest.mark.local_model
async def test_json_schema_output_parses(provider: LocalProvider) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    request = chat_request(
        "Describe a cat as JSON.",
        temperature=0,
        max_tokens=48,
        response_format=ResponseFormat(
            type="json_schema", json_schema=JsonSchemaFormat(name="cat", schema_=schema)
        ),
    )
    response = await provider.chat(request)
    assert response.choices[0].finish_reason == "stop"
    value = json.loads(response.text)
    assert isinstance(value["name"], str) and isinstance(value["age"], int)


@needs_local
@pytest.mark.local_model
async def test_real_errors(provider: LocalProvider) -> None:
    with pytest.raises(ContextLengthExceeded) as too_long:
        await provider.chat(chat_request("hello " * 1500, max_tokens=4))
    assert too_long.value.provider == "local"
    tools = [Tool(name="get_weather")]
    with pytest.raises(InvalidRequest) as with_tools:
        await provider.chat(chat_request("weather?", tools=tools))
    assert with_tools.value.param == "tools"


@needs_local
@pytest.mark.local_model
async def test_models_health_and_sharing(provider: LocalProvider) -> None:
    assert await provider.list_models() == ["smollm2-135m-instruct", "all-minilm-l6-v2"]
    await provider.health_check()
    twin = LocalProvider("twin", provider.settings)
    await twin.chat(chat_request("hi", max_tokens=2))
    from switchyard.providers.local.llama_runtime import RUNTIMES

    config = provider.runtime_config()
    assert RUNTIMES.users(config) == 2  # one model, two users
    await twin.aclose()
    assert RUNTIMES.users(config) == 1


SIMILARITY_REFERENCE = [  # published for all-MiniLM-L6-v2 in the sentence-transformers docs
    [1.0000, 0.6660, 0.1046],
    [0.6660, 1.0000, 0.1411],
    [0.1046, 0.1411, 1.0000],
]


@needs_local
@pytest.mark.local_model
async def test_real_embeddings(provider: LocalProvider) -> None:
    sentences = [
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
    ]
    response = await provider.embed(EmbeddingRequest(model="all-minilm-l6-v2", input=sentences))
    vectors = response.data
    assert [len(v) for v in vectors] == [384, 384, 384]
    for v in vectors:
        assert abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-5
    cos = [[sum(a * b for a, b in zip(u, w, strict=True)) for w in vectors] for u in vectors]
    for got_row, want_row in zip(cos, SIMILARITY_REFERENCE, strict=True):
        assert got_row == pytest.approx(want_row, abs=1e-3)
    assert cos[0][1] > cos[0][2]  # the paraphrase is nearer than the unrelated sentence
    assert response.usage.input_tokens == 25  # word pieces, [CLS] and [SEP] included

    long = await provider.embed(EmbeddingRequest(model="e", input=["word " * 1000]))
    assert long.usage.input_tokens == 256  # truncated to the model's maximum


@needs_local
@pytest.mark.local_model
async def test_embedding_dimensions_are_checked(provider: LocalProvider) -> None:
    same = await provider.embed(EmbeddingRequest(model="e", input=["a"], dimensions=384))
    assert len(same.data[0]) == 384
    with pytest.raises(InvalidRequest) as error:
        await provider.embed(EmbeddingRequest(model="e", input=["a"], dimensions=256))
    assert error.value.param == "dimensions" and error.value.provider == "local"
