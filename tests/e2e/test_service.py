"""The HTTP service as a client meets it: a real uvicorn server on loopback over the sample corpus,
the real engine (offline models) and embedded PostgreSQL; API keys made as `quarry keys create` does."""

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from quarry.agent.components import Components
from quarry.records import AnswerRecord
from tests.support.cli_env import quarry_env
from tests.support.leak_probe import INSIDER, READER, SAMPLE_PROBES
from tests.support.live_service import Key, LiveService, sse_events

pytestmark = [pytest.mark.integration, pytest.mark.model]


@pytest.fixture(scope="module")
def live(sample_components: Components) -> Iterator[LiveService]:
    with LiveService(sample_components) as service:
        yield service


@pytest.fixture(scope="module")
def reader(live: LiveService) -> Key:
    return live.key(READER.id, *READER.groups)


@pytest.fixture(scope="module")
def insider(live: LiveService) -> Key:
    return live.key(INSIDER.id, *INSIDER.groups)


def test_health_readiness_openapi_and_request_ids(live: LiveService):
    with live.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"model": "loaded", "database": "ok"}
        schema = client.get("/openapi.json").json()
        assert {"/v1/ask", "/v1/sessions", "/v1/search", "/v1/documents", "/v1/runs/{run_id}/trace"} <= set(
            schema["paths"]
        )
        echoed = client.get("/healthz", headers={"X-Request-Id": "trace-42"})
        assert echoed.headers["x-request-id"] == "trace-42"
        made = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"}).headers["x-request-id"]
        assert made != "bad id with spaces" and len(made) == 32


def test_a_request_without_a_valid_key_is_refused_with_the_error_shape(live: LiveService):
    with live.client() as client:
        missing = client.get("/v1/me")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["error"]["code"] == "authentication_failed"
        assert set(missing.json()["error"]) == {"code", "message", "field"}
        wrong = client.get("/v1/me", headers={"Authorization": "Bearer qk_not-a-key"})
        assert wrong.status_code == 401 and "not valid" in wrong.json()["error"]["message"]
        assert "qk_not-a-key" not in wrong.text


def test_me_names_the_key_and_a_request_cannot_claim_groups_or_a_principal(live: LiveService, reader: Key):
    with live.client(reader) as client:
        assert client.get("/v1/me").json() == {"principal": "reader", "groups": ["public"], "account": None}
        for claim in ({"groups": ["security"]}, {"principal": "insider"}):
            refused = client.post("/v1/ask", json={"question": "Who owns Ledgerline?", **claim})
            assert refused.status_code == 400
            error = refused.json()["error"]
            assert error["code"] == "identity_in_request" and error["field"] == next(iter(claim))
        in_filters = client.post("/v1/ask", json={"question": "x", "filters": {"groups": ["security"]}})
        assert in_filters.status_code == 400 and in_filters.json()["error"]["field"] == "filters.groups"


def test_bad_input_is_refused_before_any_run(live: LiveService, reader: Key):
    with live.client(reader) as client:
        before = len(client.get("/v1/runs").json())
        unknown = client.post("/v1/ask", json={"question": "q", "budgett": {}})
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "unknown_field")
        assert unknown.json()["error"]["field"] == "budgett"
        malformed = client.post("/v1/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
        assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, "malformed_json")
        long = client.post("/v1/ask", json={"question": "why " * 1200})
        assert (long.status_code, long.json()["error"]["field"]) == (422, "question")
        assert "limit is 4000" in long.json()["error"]["message"]
        oversize = client.post("/v1/ask", content=b"x" * 1_000_001, headers={"Content-Type": "application/json"})
        assert (oversize.status_code, oversize.json()["error"]["code"]) == (413, "request_too_large")
        bad_budget = client.post("/v1/ask", json={"question": "q", "budget": {"max_hops": 0}})
        assert (bad_budget.status_code, bad_budget.json()["error"]["field"]) == (400, "budget.max_hops")
        assert len(client.get("/v1/runs").json()) == before


def test_ask_answers_with_the_object_quarry_ask_json_prints(live: LiveService, reader: Key):
    budget = {"max_seconds": 30, "max_hops": 2, "max_tokens": 20_000, "max_usd": 0.05}
    with live.client(reader) as client:
        response = client.post("/v1/ask", json={"question": "Which team owns Ledgerline?", "budget": budget})
    assert response.status_code == 200, response.text
    answer = AnswerRecord.model_validate(response.json())  # the serializer `quarry ask --json` uses
    assert answer.answer and answer.citations and answer.hops <= 2
    assert answer.spend.input_tokens + answer.spend.output_tokens <= 20_000
    with live.client(reader) as client:
        run = client.get(f"/v1/runs/{answer.run_id}").json()
    assert run["summary"]["principal_id"] == "reader"
    assert run["limits"]["max_hops"] == 2
    assert run["answer"] == response.json()


def test_ask_streams_typed_events_ending_with_the_answer(live: LiveService, reader: Key):
    with (
        live.client(reader) as client,
        client.stream(
            "POST",
            "/v1/ask",
            json={"question": "What caused the settlement outage?"},
            headers={"Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    names = [name for name, _ in events]
    assert names[-1] == "answer" and names.count("answer") == 1
    assert {"node_started", "node_finished", "hits_found"} <= set(names)
    started = [data for name, data in events if name == "node_started"]
    assert started[0]["node"] and set(started[0]["budget_left"]) == {"seconds", "tokens", "usd", "hops"}
    assert all(d["budget_left"]["tokens"] <= 50_000 for name, d in events if name.startswith("node_"))
    final = AnswerRecord.model_validate(events[-1][1])
    with live.client(reader) as client:
        assert client.get(f"/v1/runs/{final.run_id}").json()["answer"] == events[-1][1]


def test_another_principals_runs_sessions_traces_and_citations_answer_404(live: LiveService, reader: Key, insider: Key):
    probe = SAMPLE_PROBES[0]
    with live.client(insider) as client:
        inside = client.post("/v1/ask", json={"question": probe.question}).json()
        session = client.post("/v1/sessions").json()["session_id"]
    assert any(s.lower() in inside["answer"].lower() for s in probe.secrets), "the probe reaches its secret"
    run_id = inside["run_id"]
    with live.client(reader) as client:
        for path in (
            f"/v1/runs/{run_id}",
            f"/v1/runs/{run_id}/trace",
            f"/v1/citations/{run_id}/1",
            f"/v1/sessions/{session}/messages",
            "/v1/runs/00000000-0000-0000-0000-000000000000",
        ):
            got = client.get(path)
            assert got.status_code == 404, path
            assert probe.secrets[0] not in got.text
        assert client.get(f"/v1/runs/{run_id}").json() == client.get(
            "/v1/runs/00000000-0000-0000-0000-000000000000"
        ).json() | {"error": client.get(f"/v1/runs/{run_id}").json()["error"]}
        posted = client.post(f"/v1/sessions/{session}/messages", json={"question": "and who else?"})
        assert posted.status_code == 404
        assert all(r["principal_id"] == "reader" for r in client.get("/v1/runs").json())
        assert run_id not in {r["id"] for r in client.get("/v1/runs?limit=500").json()}
        assert client.get("/v1/spend").json()["principal"] == "reader"


def test_no_cross_principal_leak_over_http(live: LiveService, reader: Key, insider: Key):
    """The leak probe's surfaces over HTTP: the reader's streamed events, answers and traces never
    show a phrase found only in documents the reader's key cannot read."""
    leaks, reachable = [], 0
    with live.client(insider) as inside_client, live.client(reader) as client:
        for probe in SAMPLE_PROBES:
            inside = inside_client.post("/v1/ask", json={"question": probe.question}).json()
            reachable += any(s.lower() in inside["answer"].lower() for s in probe.secrets)
            for question in (probe.question, probe.paraphrase):
                with client.stream(
                    "POST", "/v1/ask", json={"question": question}, headers={"Accept": "text/event-stream"}
                ) as response:
                    events = sse_events(response)
                answer = events[-1][1]
                trace = client.get(f"/v1/runs/{answer['run_id']}/trace").text
                shown = json.dumps(events) + trace
                leaks += [(question, s) for s in probe.secrets if s.lower() in shown.lower()]
    assert reachable >= 2
    assert leaks == []


def test_a_session_continues_with_follow_ups_as_json_and_as_events(live: LiveService, reader: Key):
    with live.client(reader) as client:
        created = client.post("/v1/sessions", json={"budget": {"max_usd": 1.0}})
        assert created.status_code == 201
        session = created.json()["session_id"]
        first = client.post(f"/v1/sessions/{session}/messages", json={"question": "Which team owns Ledgerline?"})
        assert first.status_code == 200, first.text
        with client.stream(
            "POST",
            f"/v1/sessions/{session}/messages",
            json={"question": "And who leads it?"},
            headers={"Accept": "text/event-stream"},
        ) as response:
            events = sse_events(response)
        assert events[-1][0] == "answer"
        follow_up = events[-1][1]
        assert follow_up["asked_as"] == "And who leads it?" and follow_up["question"] != "And who leads it?"
        messages = client.get(f"/v1/sessions/{session}/messages").json()
        assert [m["asked"] for m in messages["messages"]] == ["Which team owns Ledgerline?", "And who leads it?"]
        assert messages["messages"][1]["answer"] == follow_up
        listed = client.get("/v1/sessions").json()
        assert listed[0]["session_id"] == session and listed[0]["turns"] == 2


def test_a_citation_opens_its_passage_in_the_document(live: LiveService, reader: Key):
    with live.client(reader) as client:
        answer = client.post("/v1/ask", json={"question": "Which team owns Ledgerline?"}).json()
        cited = answer["citations"][0]
        opened = client.get(f"/v1/citations/{answer['run_id']}/{cited['number']}").json()
        assert opened["document_id"] == cited["document_id"] and opened["title"] == cited["title"]
        assert opened["text"][opened["start_char"] : opened["end_char"]] == cited["text"]
        assert opened["changed"] is False and len(opened["text"]) > len(cited["text"])
        assert client.get(f"/v1/citations/{answer['run_id']}/99").status_code == 404


def test_search_returns_passages_the_key_may_read(live: LiveService, reader: Key, insider: Key):
    with live.client(reader) as client:
        hits = client.get("/v1/search", params={"q": "Vaultwright hardware security modules", "k": 5}).json()["hits"]
        assert 0 < len(hits) <= 5
        assert not any("Vaultwright" in h["text"] for h in hits)
        assert client.get("/v1/search", params={"q": " "}).json()["error"]["field"] == "q"
        # Filters match the stored spelling in any case, as on the CLI.
        spelled = client.get("/v1/search", params={"q": "who leads the team", "author": "dana okafor"}).json()["hits"]
        assert spelled and {h["author"] for h in spelled} == {"Dana Okafor"}
    with live.client(insider) as client:
        hits = client.get("/v1/search", params={"q": "Vaultwright hardware security modules", "k": 5}).json()["hits"]
        assert any("Vaultwright" in h["text"] for h in hits)


def test_upload_follows_the_ingest_contract_and_cannot_widen_access(live: LiveService, reader: Key):
    text = b"# Kestrel\n\nKestrel is the pager rotation tool the SRE team adopted in 2025 for escalations.\n"
    with live.client(reader) as client:
        refused = client.post("/v1/documents", files={"file": ("kestrel.md", text)}, data={"access": "public"})
        assert refused.status_code == 422
        assert "author" in refused.json()["error"]["message"]
        meta = {
            "author": "Ana Lima",
            "domain": "engineering",
            "published_at": "2025-02-01T00:00:00Z",
            "title": "Kestrel",
        }
        wider = client.post(
            "/v1/documents", files={"file": ("kestrel.md", text)}, data={**meta, "access": "public,security"}
        )
        assert wider.status_code == 422 and "security" in wider.json()["error"]["message"]
        stored = client.post("/v1/documents", files={"file": ("kestrel.md", text)}, data={**meta, "access": "public"})
        assert stored.status_code == 201, stored.text
        assert len(stored.json()["inserted"]) == 1
        hits = client.get("/v1/search", params={"q": "Kestrel pager rotation tool", "k": 3}).json()["hits"]
        assert hits[0]["title"] == "Kestrel"
        nameless = client.post("/v1/documents", files={"file": ("", text)}, data=meta)
        assert nameless.status_code in (400, 422)


def test_cache_stats_and_spend_are_the_callers(live: LiveService, reader: Key):
    with live.client(reader) as client:
        stats = client.get("/v1/cache/stats").json()
        assert stats["enabled"] is False and stats["your_runs"] >= 1
        spend = client.get("/v1/spend", params={"by": "model"}).json()
        assert spend["by"] == "model" and spend["rows"]


def test_the_web_page_is_served(live: LiveService):
    with live.client() as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_the_cli_is_a_client_when_quarry_url_is_set(live: LiveService, reader: Key, tmp_path):
    """`quarry search/ask/runs/spend` with QUARRY_URL and QUARRY_API_KEY: the server does the work as
    the key's principal; identity flags are refused; a dead server is a clear exit 3."""
    env = quarry_env(QUARRY_URL=live.url, QUARRY_API_KEY=reader.key)

    def quarry(*args: str, environ: dict[str, str] = env) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "quarry.agent.cli.main", *args],
            env=environ,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    found = quarry("search", "settlement outage", "--k", "3", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["title"] == "March 2024 settlement outage"
    asked = quarry("ask", "Which team owns Ledgerline?", "--json", "--max-hops", "1")
    assert asked.returncode == 0, asked.stderr
    answer = AnswerRecord.model_validate_json(asked.stdout)
    assert answer.hops <= 1 and "search" in asked.stderr, "progress lines come from the streamed events"
    runs = json.loads(quarry("runs", "--json").stdout)
    assert runs[0]["id"] == answer.run_id and {r["principal_id"] for r in runs} == {"reader"}
    shown = quarry("runs", answer.run_id[:8])
    assert shown.returncode == 0 and "Timeline" in shown.stdout
    assert quarry("spend", "--by", "model").returncode == 0
    widened = quarry("search", "x", "--groups", "security")
    assert widened.returncode == 2 and "--groups cannot be used with QUARRY_URL" in widened.stderr
    dead = quarry("search", "x", environ=env | {"QUARRY_URL": "http://127.0.0.1:9"})
    assert dead.returncode == 3 and "cannot reach the Quarry server" in dead.stderr
    half = quarry("search", "x", environ={k: v for k, v in env.items() if k != "QUARRY_API_KEY"})
    assert half.returncode == 2 and "QUARRY_API_KEY is not set" in half.stderr


def test_keys_are_created_listed_and_revoked_from_the_cli(live: LiveService, tmp_path):
    db = live.state.components.db
    env = quarry_env(
        QUARRY_DATABASE_URL=live.settings.database.url or "",
        QUARRY_DATABASE__SCHEMA_NAME=db.schema,
        QUARRY_DATA_DIR=str(tmp_path / "data"),
    )

    def quarry(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "quarry.agent.cli.main", "keys", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    made = quarry("create", "--principal", "carol", "--groups", "public,sre", "--json")
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["principal"] == "carol" and created["groups"] == ["public", "sre"]
    with live.client() as client:
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {created['key']}"})
        assert me.json() == {"principal": "carol", "groups": ["public", "sre"], "account": None}
    listed = quarry("list")
    assert created["prefix"] in listed.stdout and created["key"] not in listed.stdout
    assert quarry("revoke", created["prefix"]).returncode == 0
    with live.client() as client:
        assert client.get("/v1/me", headers={"Authorization": f"Bearer {created['key']}"}).status_code == 401
    missing = quarry("revoke", "qk_nothere")
    assert missing.returncode == 2 and "no live API key" in missing.stderr
    unknown_account = quarry("create", "--principal", "dan", "--groups", "public", "--account", "nope")
    assert unknown_account.returncode == 2


def test_failed_authentication_is_rate_limited_per_address(live: LiveService, reader: Key):
    """Last in the module: it locks 127.0.0.1 out for the rest of the minute."""
    limit = live.settings.service.auth_failures_per_minute
    statuses = []
    with live.client() as client:
        for _ in range(limit + 1):
            statuses.append(client.get("/v1/me", headers={"Authorization": "Bearer qk_wrong"}).status_code)
        # Earlier tests in the module failed twice from this address too.
        assert statuses[-1] == 429 and 401 in statuses
        assert statuses == [401] * statuses.index(429) + [429] * (len(statuses) - statuses.index(429))
        locked = client.get("/v1/me", headers=reader.headers)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    assert locked.json()["error"]["code"] == "too_many_auth_failures"


def test_the_limiter_forgets_failures_after_its_window():
    from quarry.agent.service.limiter import WINDOW_SECONDS, FailureLimiter
    from quarry.errors import TooManyAuthFailures

    now = [0.0]
    limiter = FailureLimiter(2, clock=lambda: now[0])
    limiter.fail("a")
    limiter.fail("a")
    with pytest.raises(TooManyAuthFailures):
        limiter.check("a")
    limiter.check("b")
    now[0] += WINDOW_SECONDS
    limiter.check("a")
