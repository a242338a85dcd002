"""Sessions through the served gateway's native API, with httpx, on SQLite and PostgreSQL:
create, list (paginated), read with messages (usage and cost), reply (plain and SSE, stored
once whole), delete; a session is its owner's only (another tenant's key, or another user's,
gets 404); errors in the native shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest

from switchyard.doors.native.complete import CompleteResponse, DoneEvent, ErrorBody
from switchyard.providers.fake import FakeFailure
from switchyard.tenancy.settings import KeySpec
from tests.conversations.helpers import config
from tests.e2e.served import ServedGateway, serve
from tests.fakes.gateway import fake_provider

MASTER = "sk-master-sessions-0123456789abcdef"


def served_config(url: str) -> dict[str, Any]:
    settings = config(url, max_messages=6, page_size=2)
    settings["server"] = {"master_key": MASTER}
    settings["tenants"] = [{"name": "acme"}, {"name": "globex"}]
    return settings


@pytest.fixture
def served(storage_url: str) -> Iterator[ServedGateway]:
    with serve(served_config(storage_url)) as s:
        yield s


def client(served: ServedGateway, key: str = MASTER) -> httpx.Client:
    return httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def make_key(served: ServedGateway, tenant: str, user: str | None = None) -> str:
    accounts = served.gateway.accounts
    assert accounts is not None
    _, secret = served.call(accounts.create_key(KeySpec(tenant=tenant, user=user)))
    return secret


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.split("\n\n"):
        if block:
            name, data = block.split("\n")
            assert name.startswith("event: ") and data.startswith("data: ")
            events.append((name[7:], orjson.loads(data[6:])))
    return events


def test_a_session_lives_through_the_native_api(served: ServedGateway) -> None:
    with client(served) as http:
        made = http.post(
            "/api/v1/sessions",
            json={"model": "roomy", "system": "You echo.", "metadata": {"team": "blue"}},
        )
        assert made.status_code == 201, made.text
        session = made.json()
        assert session["id"].startswith("sess_") and session["model"] == "roomy"
        assert (session["system"], session["metadata"]) == ("You echo.", {"team": "blue"})
        assert session["created_at"].endswith("+00:00")
        url = f"/api/v1/sessions/{session['id']}"

        reply = http.post(f"{url}/messages", json={"content": "hello there"})
        assert reply.status_code == 200, reply.text
        answer = CompleteResponse.model_validate(reply.json())  # the /complete shape
        assert answer.text == "hello there" and answer.provider == "a"
        assert answer.cost is not None and answer.cost.total > 0
        assert float(reply.headers["x-switchyard-cost-usd"]) == pytest.approx(answer.cost.total)

        streamed = http.post(f"{url}/messages", json={"content": "one two", "stream": True})
        assert streamed.status_code == 200
        assert streamed.headers["content-type"].startswith("text/event-stream")
        events = sse_events(streamed.text)
        assert [name for name, _ in events] == ["chunk", "chunk", "done"]
        assert "".join(data.get("text", "") for _, data in events[:-1]) == "one two"
        done = DoneEvent.model_validate(events[-1][1])

        read = http.get(url).json()
        messages = read["messages"]
        assert [(m["role"], m["content"]) for m in messages] == [
            ("user", "hello there"),
            ("assistant", "hello there"),
            ("user", "one two"),
            ("assistant", "one two"),
        ]
        assert "usage" not in messages[0]
        assert messages[1]["usage"] == answer.usage.model_dump()
        assert messages[1]["cost"]["total"] == pytest.approx(answer.cost.total)
        assert messages[3]["usage"] == (done.usage and done.usage.model_dump())
        assert (messages[3]["provider"], messages[3]["model"]) == ("a", "big-window")
        # the streamed request carried the first exchange
        sent = fake_provider(served.gateway, "a").requests[-1].messages
        assert [m.text() for m in sent] == ["You echo.", "hello there", "hello there", "one two"]

        gone = http.delete(url)
        assert gone.status_code == 200 and gone.json()["deleted"] is True
        missing = http.get(url)
        assert missing.status_code == 404
        error = ErrorBody.model_validate(missing.json()).error
        assert (error.type, error.code) == ("INVALID_REQUEST", "not_found")
        assert error.param == "session_id"
        assert http.delete(url).status_code == 404


def test_sessions_are_listed_newest_first_a_page_at_a_time(served: ServedGateway) -> None:
    with client(served) as http:
        made = [
            http.post("/api/v1/sessions", json={"model": "roomy"}).json()["id"] for _ in range(5)
        ]
        newest_first = made[::-1]
        seen: list[str] = []
        after = None
        while True:
            page = http.get("/api/v1/sessions", params={"after": after} if after else {}).json()
            assert len(page["data"]) <= 2  # conversations.page_size
            seen += [s["id"] for s in page["data"]]
            if not page["has_more"]:
                break
            after = page["last_id"]
        assert seen == newest_first
        three = http.get("/api/v1/sessions", params={"limit": 3}).json()
        assert [s["id"] for s in three["data"]] == newest_first[:3] and three["has_more"]
        for limit in ("0", "101", "many"):
            refused = http.get("/api/v1/sessions", params={"limit": limit})
            assert refused.status_code == 400 and refused.json()["error"]["param"] == "limit"


def test_a_session_is_its_owners_alone(served: ServedGateway) -> None:
    acme_ada, acme_ada_again = make_key(served, "acme", "ada"), make_key(served, "acme", "ada")
    acme_bob, globex_ada = make_key(served, "acme", "bob"), make_key(served, "globex", "ada")
    acme_nobody = make_key(served, "acme")
    with client(served, acme_ada) as http:
        session = http.post("/api/v1/sessions", json={"model": "roomy"}).json()
        assert http.post(f"/api/v1/sessions/{session['id']}/messages", json={"content": "mine"})
    url = f"/api/v1/sessions/{session['id']}"
    for stranger in (acme_bob, globex_ada, acme_nobody, MASTER):
        with client(served, stranger) as http:
            assert http.get(url).status_code == 404
            assert http.post(f"{url}/messages", json={"content": "x"}).status_code == 404
            assert http.delete(url).status_code == 404
            listed = http.get("/api/v1/sessions").json()["data"]
            assert session["id"] not in [s["id"] for s in listed]
    with client(served, acme_ada_again) as http:  # the same user, another of their keys
        messages = http.get(url).json()["messages"]
        assert [m["content"] for m in messages] == ["mine", "mine"]
    # a key without a user owns its sessions by itself
    with client(served, acme_nobody) as http:
        own = http.post("/api/v1/sessions", json={"model": "roomy"}).json()["id"]
        assert http.get(f"/api/v1/sessions/{own}").status_code == 200
    with client(served, make_key(served, "acme")) as http:
        assert http.get(f"/api/v1/sessions/{own}").status_code == 404


def test_a_stream_that_breaks_stores_nothing_and_says_so(served: ServedGateway) -> None:
    with client(served) as http:
        session = http.post("/api/v1/sessions", json={"model": "roomy"}).json()
        url = f"/api/v1/sessions/{session['id']}/messages"
        fake_provider(served.gateway, "a").script(FakeFailure(mode="cut_stream", after_chunks=1))
        broken = http.post(url, json={"content": "one two three", "stream": True})
        events = sse_events(broken.text)
        assert [name for name, _ in events] == ["chunk", "error"]
        assert events[-1][1]["error"]["type"] == "PROVIDER_ERROR"
        assert http.get(f"/api/v1/sessions/{session['id']}").json()["messages"] == []
        # failing before the first byte: the native error JSON with its status
        fake_provider(served.gateway, "a").script(FakeFailure(status=400, body="no"))
        refused = http.post(url, json={"content": "hi", "stream": True})
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "INVALID_REQUEST"


def test_the_native_error_shape_names_the_field(served: ServedGateway) -> None:
    with client(served) as http:
        for body, param in (
            ({"model": "roomy", "extra": 1}, "extra"),
            ({"model": "roomy", "metadata": {"k": 1}}, "metadata.k"),
            ({"model": ""}, "model"),
        ):
            refused = http.post("/api/v1/sessions", json=body)
            assert refused.status_code == 400, body
            assert refused.json()["error"]["param"] == param
        many = {str(n): "v" for n in range(17)}
        refused = http.post("/api/v1/sessions", json={"model": "roomy", "metadata": many})
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "metadata"
        default = http.post("/api/v1/sessions", json={})  # the first alias, as /complete's
        assert default.status_code == 201 and default.json()["model"] == "chat"
        unknown = http.post("/api/v1/sessions", json={"model": "nope"})
        assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "MODEL_NOT_FOUND"
        session = http.post("/api/v1/sessions", json={"model": "chat"}).json()
        url = f"/api/v1/sessions/{session['id']}/messages"
        for body, param in (({}, "content"), ({"content": ""}, "content")):
            refused = http.post(url, json=body)
            assert refused.status_code == 400 and refused.json()["error"]["param"] == param
        too_long = http.post(url, json={"content": "y" * 400})  # beyond the 120-token window
        assert too_long.status_code == 400
        assert too_long.json()["error"]["type"] == "CONTEXT_LENGTH"
    unauthenticated = httpx.get(f"{served.url}/api/v1/sessions")
    assert unauthenticated.status_code == 401
    assert ErrorBody.model_validate(unauthenticated.json()).error.code == "invalid_api_key"
    globex = make_key(served, "globex")
    with client(served, globex) as http:
        assert http.post("/api/v1/sessions", json={"model": "roomy"}).status_code == 201


def test_a_message_while_the_session_answers_another_is_a_409(storage_url: str) -> None:
    settings = served_config(storage_url)
    settings["providers"]["a"]["latency"] = 0.5
    with serve(settings) as served, client(served) as http:
        session = http.post("/api/v1/sessions", json={"model": "roomy"}).json()
        url = f"/api/v1/sessions/{session['id']}/messages"
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(http.post, url, json={"content": "one"})
            time.sleep(0.2)  # the first reply waits for its upstream
            busy = http.post(url, json={"content": "two"})
            streamed_busy = http.post(url, json={"content": "two", "stream": True})
            assert first.result().status_code == 200
        for refused in (busy, streamed_busy):
            assert refused.status_code == 409, refused.text
            error = ErrorBody.model_validate(refused.json()).error
            assert (error.code, error.param) == ("conflict", "session_id")
            assert "answering another message" in error.message
        streamed = http.post(url, json={"content": "three", "stream": True})  # free again
        assert [name for name, _ in sse_events(streamed.text)][-1] == "done"
        assert http.post(url, json={"content": "four"}).status_code == 200  # and after it
        messages = http.get(f"/api/v1/sessions/{session['id']}").json()["messages"]
        assert [m["content"] for m in messages] == ["one", "one", "three", "three", "four", "four"]
