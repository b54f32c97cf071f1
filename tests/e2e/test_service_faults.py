"""The service under faults, on a real uvicorn server with its own embedded cluster: a client that
leaves mid-stream (its run is cancelled and recorded so), shutdown with a run in flight (it drains),
the database down (/readyz and requests answer 503), and slow clients (the head and body timers).
Faults fire from a hook in the run (tests/support/fault_hooks.py), never from a sleep."""

import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from quarry.agent.components import Components
from quarry.agent.ledger_view import recent_runs
from tests.support.fault_hooks import FaultOnSearch
from tests.support.helpers import isolated_settings
from tests.support.live_service import Key, LiveService, sse_events
from tests.support.pg_control import EmbeddedCluster

pytestmark = [pytest.mark.integration, pytest.mark.model]

REPO = Path(__file__).resolve().parents[2]
QUESTION = "Which team owns Ledgerline?"


class Gate:
    """A fault that holds the run's first search until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        self.entered.set()
        self.release.wait(timeout=120)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedCluster:
    return EmbeddedCluster(tmp_path_factory.mktemp("service-faults") / "pg")


@pytest.fixture(scope="module")
def fault(embedder) -> FaultOnSearch:
    return FaultOnSearch(embedder)


@pytest.fixture(scope="module")
def components(
    cluster: EmbeddedCluster, fault: FaultOnSearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Components]:
    settings = isolated_settings(
        cluster.url,
        tmp_path_factory.mktemp("service-faults-data"),
        schema=f"f_{uuid.uuid4().hex[:10]}",
        overrides={
            "cache.enabled": False,
            "database.connect_timeout_s": 2,
            "service.header_timeout_s": 0.5,
            "service.body_timeout_s": 0.5,
        },
    )
    parts = Components(settings, environ={}, embedder=fault)
    report = parts.ingestor.ingest_paths(
        [REPO / "examples" / "corpus" / "wiki", REPO / "examples" / "corpus" / "teams"]
    )
    assert report.refused == []
    yield parts
    parts.close()


@pytest.fixture
def live(components: Components) -> Iterator[LiveService]:
    with LiveService(components) as service:
        yield service


def _stream_to_end(live: LiveService, key: Key, out: list) -> None:
    with (
        live.client(key) as client,
        client.stream("POST", "/v1/ask", json={"question": QUESTION}, headers={"Accept": "text/event-stream"}) as r,
    ):
        out.extend(sse_events(r))


def test_a_client_that_leaves_mid_stream_cancels_its_run(live: LiveService, fault: FaultOnSearch):
    key = live.key("leaver", "public")
    gate = Gate()
    fault.arm(gate)
    with (
        live.client(key) as client,
        client.stream("POST", "/v1/ask", json={"question": QUESTION}, headers={"Accept": "text/event-stream"}) as r,
    ):
        lines = r.iter_lines()  # kept: dropping the iterator would close the stream at once
        assert next(lines).startswith("event: node_started")
        assert gate.entered.wait(timeout=60), "the run reached its first search"
    # The connection is closed; the server cancels the run while its search is held.
    assert live.state.inflight.wait_idle(timeout=60)
    gate.release.set()
    runs = recent_runs(live.state.components.db, principal_id="leaver")
    assert [r.status for r in runs] == ["cancelled"]
    assert live.state.inflight.cancelled >= 1


def test_shutdown_lets_a_run_in_flight_finish(components: Components, fault: FaultOnSearch):
    live = LiveService(components).__enter__()
    key = live.key("drained", "public")
    gate = Gate()
    fault.arm(gate)
    events: list = []
    reader = threading.Thread(target=_stream_to_end, args=(live, key, events))
    reader.start()
    assert gate.entered.wait(timeout=60)
    stopping = threading.Thread(target=live.stop)  # what SIGTERM does to `quarry serve`
    stopping.start()
    assert live.server.should_exit
    gate.release.set()
    reader.join(timeout=120)
    stopping.join(timeout=120)
    assert not stopping.is_alive() and not reader.is_alive()
    assert events and events[-1][0] == "answer", "the run in flight finished and its answer reached the client"
    assert [r.status for r in recent_runs(components.db, principal_id="drained")] in (["complete"], ["partial"])


def test_database_down_fails_readiness_and_requests_with_503(live: LiveService, cluster: EmbeddedCluster):
    key = live.key("ops", "public")
    cluster.stop()
    try:
        with live.client(key) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert "database unavailable" in ready.json()["error"]["message"]
            refused = client.get("/v1/me")
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "database_unavailable"
            assert "PostgreSQL" in refused.json()["error"]["message"]
            assert client.get("/healthz").status_code == 200, "the process itself is up"
    finally:
        cluster.start()
    with live.client(key) as client:
        assert client.get("/readyz").status_code == 200


def test_a_slow_request_head_is_cut_off(live: LiveService):
    port = int(live.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: quarry\r\n")  # and never the rest
        assert conn.recv(1024) == b"", "the server closed the connection"


def test_a_slow_request_body_is_answered_408(live: LiveService):
    key = live.key("slow", "public")
    port = int(live.url.rsplit(":", 1)[1])
    head = (
        "POST /v1/ask HTTP/1.1\r\nHost: quarry\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key.key}\r\nContent-Length: 100\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head.encode() + b'{"question": ')  # 13 of 100 bytes, then nothing
        reply = b""
        while chunk := conn.recv(4096):
            reply += chunk
            if b"\r\n\r\n" in reply and reply.endswith(b"}"):
                break
    assert reply.startswith(b"HTTP/1.1 408")
    assert b"request_timeout" in reply


def test_an_oversize_body_without_a_length_is_refused_as_it_streams(live: LiveService):
    key = live.key("big", "public")

    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(200):
            yield b"x" * 10_000

    with live.client(key) as client:
        response = client.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_http_errors_keep_the_shape(live: LiveService):
    with httpx.Client(base_url=live.url) as client:
        missing = client.get("/v1/nothing-here")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        wrong = client.delete("/v1/ask")
        assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
