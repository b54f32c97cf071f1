"""The web page at `/` as a person uses it, in headless Chromium: sign in with a key, ask and watch the
run, open a citation, follow up, come back to past sessions and spend, on a desktop and a phone."""

import re
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Served

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

QUESTION = "Who leads the team that owns the service that failed in the March 2024 settlement outage?"
PHONE = {"width": 375, "height": 740}

# Every state the last run's panel passes through (node, hop, meters, whether the answer is shown),
# recorded in the page as the DOM changes, so the test sees what a person saw while the run streamed.
RECORD_RUN_STATES = """
window.__runStates = [];
new MutationObserver(() => {
  const turn = document.querySelector("#thread > .turn:last-child");
  const run = turn && turn.querySelector(".run");
  if (!run) return;
  const meter = (name) => { const m = run.querySelector(`.meter-${name} meter`); return m ? Number(m.value) : null; };
  if (!run.dataset.budget) return; // no budget event yet: the meters hold no figures
  const state = {
    node: run.dataset.node, hop: Number(run.dataset.hop), state: run.dataset.state,
    tokens: meter("tokens"), seconds: meter("seconds"), usd: meter("usd"),
    answered: Boolean(turn.querySelector(".answer")),
  };
  const last = window.__runStates[window.__runStates.length - 1];
  if (!last || JSON.stringify(last) !== JSON.stringify(state)) window.__runStates.push(state);
}).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
"""


def sign_in(page: Any, key: str) -> None:
    page.fill("#api-key", key)
    page.click("#login-button")
    page.locator("#app-view").wait_for(state="visible")


def ask(page: Any, question: str) -> Any:
    """Ask in the page and wait for the answer; the turn's list item."""
    turns = page.locator("#thread > .turn")
    before = turns.count()
    page.fill("#question", question)
    page.click("#ask-button")
    turn = turns.nth(before)
    turn.locator(".run[data-state='done']").wait_for(timeout=120_000)
    return turn


def api(served: Served, path: str) -> Any:
    response = httpx.get(served.url + path, headers={"Authorization": f"Bearer {served.key}"}, timeout=60)
    response.raise_for_status()
    return response.json()


def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the screen (0: no sideways scrolling)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


def test_a_wrong_key_shows_the_servers_error_and_is_not_kept(page, screenshot):
    page.fill("#api-key", "qk_not-a-real-key")
    page.click("#login-button")
    error = page.locator("#login-error")
    error.wait_for(state="visible")
    assert error.text_content().startswith("That key was not accepted: ")
    assert "not valid" in error.text_content()
    assert page.locator("#app-view").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    screenshot(page, "01-login-wrong-key")


def test_asking_shows_the_run_live_then_the_answer_with_citations(page, served, screenshot):
    page.add_init_script(RECORD_RUN_STATES)
    page.reload()
    sign_in(page, served.key)
    assert page.locator("#who-principal").text_content() == "web-user"
    assert page.locator("#who-groups").text_content() == "public"
    turn = ask(page, QUESTION)

    states = page.evaluate("window.__runStates")
    live = [s for s in states if s["node"] and not s["answered"]]
    assert {"plan", "search", "synthesize"} <= {s["node"] for s in live}, states
    assert max(s["hop"] for s in live) >= 1
    tokens = [s["tokens"] for s in states if s["tokens"] is not None]
    assert tokens == sorted(tokens, reverse=True) and tokens[-1] < tokens[0], "the token meter only goes down"
    assert states[-1]["state"] == "done" and states[-1]["answered"]

    steps = turn.locator(".run-log li").all_text_contents()
    assert any(step.startswith("synthesize ok") for step in steps), steps
    assert any(step.startswith("found ") for step in steps), steps
    assert re.fullmatch(r"[\d.]+ s left", turn.locator(".meter-seconds .meter-value").text_content())

    run_id = turn.locator(".answer").get_attribute("data-run-id")
    answer = api(served, f"/v1/runs/{run_id}")["answer"]
    assert turn.locator(".answer-text").text_content() == re.sub(r"\n{2,}", "", answer["answer"])
    assert turn.locator(".sources li").count() == len(answer["citations"]) > 0
    assert turn.locator(".answer .cite").count() >= 1
    assert turn.locator(".run-status").text_content().startswith("complete after ")
    screenshot(page, "02-answer-desktop")


def test_a_citation_opens_its_passage_highlighted_in_the_document(page, served, screenshot):
    sign_in(page, served.key)
    turn = ask(page, QUESTION)
    answer = api(served, f"/v1/runs/{turn.locator('.answer').get_attribute('data-run-id')}")["answer"]
    first = answer["citations"][0]

    turn.locator(f".answer .cite[data-n='{first['number']}']").first.click()
    dialog = page.locator("#citation-dialog")
    dialog.wait_for(state="visible")
    mark = dialog.locator("mark#cited-span")
    mark.wait_for()
    assert mark.text_content() == first["text"]
    assert dialog.locator("#citation-title").text_content() == f"[{first['number']}] {first['title']}"
    assert first["source"] in dialog.locator("#citation-meta").text_content()
    assert first["text"] in dialog.locator("#citation-body").text_content()
    screenshot(page, "03-citation-desktop", full_page=False)

    dialog.locator("#citation-close").click()
    assert dialog.is_hidden()
    turn.locator(".sources .source").nth(len(answer["citations"]) - 1).click()
    assert mark.text_content() == answer["citations"][-1]["text"]


def test_a_follow_up_continues_the_conversation_in_one_session(page, served, screenshot):
    sign_in(page, served.key)
    ask(page, "Which team owns Ledgerline?")
    follow_up = ask(page, "And who leads it?")
    assert "Dana Okafor" in follow_up.locator(".answer-text").text_content()
    assert page.locator("#thread > .turn").count() == 2

    current = page.locator("#sessions li[aria-current='true']")
    current.wait_for()
    session_id = current.get_attribute("data-session-id")
    assert current.locator(".session").text_content() == "Which team owns Ledgerline?"
    messages = api(served, f"/v1/sessions/{session_id}/messages")["messages"]
    assert [m["asked"] for m in messages] == ["Which team owns Ledgerline?", "And who leads it?"]
    screenshot(page, "04-follow-up-desktop")


def test_past_sessions_and_spend_are_there_after_a_reload(page, served, screenshot):
    sign_in(page, served.key)
    ask(page, "What happened in the March 2024 settlement outage?")
    page.reload()  # the key is kept in this tab's session storage
    page.locator("#app-view").wait_for(state="visible")

    mine = api(served, "/v1/sessions")
    listed = page.locator("#sessions li")
    listed.nth(len(mine) - 1).wait_for()
    assert listed.count() == len(mine)
    past = page.locator("#sessions .session", has_text="What happened in the March 2024 settlement outage?").first
    past.click()
    page.locator("#thread .answer").first.wait_for()
    assert page.locator("#thread .question").all_text_contents() == [
        "What happened in the March 2024 settlement outage?"
    ]
    assert page.locator("#thread .answer .sources li").count() > 0
    assert page.locator("#thread .answer .summary").text_content().startswith("complete after ")

    spend = api(served, "/v1/spend")
    shown = page.locator("#spend tbody tr td:first-child").all_text_contents()
    assert shown == [row["key"] for row in spend["rows"]] and "synthesize" in shown
    assert page.locator(".spend-total").text_content().startswith("Total $")
    screenshot(page, "05-sessions-and-spend-desktop")

    page.click("#logout")
    page.locator("#login-view").wait_for(state="visible")
    assert page.evaluate("sessionStorage.length") == 0


def test_document_markup_is_shown_as_text_and_never_run(page, served, screenshot):
    sign_in(page, served.key)
    turn = ask(page, "What does the zebracanary protocol rotate?")
    answer = turn.locator(".answer")
    assert "Zebracanary <img src=x onerror=window.__pwned=1> notes" in answer.locator(".sources").text_content()
    turn.locator(".sources .source", has_text="Zebracanary").first.click()
    body = page.locator("#citation-body")
    body.locator("mark").wait_for()
    assert "<script>window.__pwned = 1</script>" in body.text_content()
    assert (
        page.locator("#thread img, #thread script, #thread b, #citation-dialog img, #citation-dialog script").count()
        == 0
    )
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "06-markup-as-text", full_page=False)


def test_phone_width_has_no_horizontal_overflow(browser, served, screenshot):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(served.url + "/")
        assert overflow(page) == 0
        screenshot(page, "07-phone-login")
        sign_in(page, served.key)
        ask(page, QUESTION)
        assert overflow(page) == 0
        screenshot(page, "08-phone-answer")
        page.locator("#thread .answer .cite").first.click()
        page.locator("#cited-span").wait_for()
        box = page.locator("#citation-dialog").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert overflow(page) == 0
        screenshot(page, "09-phone-citation", full_page=False)
    finally:
        context.close()


# Chunks split where a network may split them: inside a CRLF, inside a field name, mid-JSON; a
# keep-alive comment; an event whose data spans two lines; a last event with no closing blank line.
SSE_CHUNKS = [
    ": keep-alive\r\n\r\nevent: node_started\r",
    '\ndata: {"node": "plan", "hop": 0}\r\n\r\nev',
    'ent: draft_ready\ndata: {"text": "line one\\n',
    'line two"}\ndata: \n\nevent: answer\ndata: {"answer": "done"}',
]


def test_the_event_stream_reader_survives_how_the_network_splits_it(page):
    events = page.evaluate(
        """async (chunks) => {
            const { readEvents } = await import("/static/api.js");
            const encoder = new TextEncoder();
            const stream = new ReadableStream({
                start(controller) {
                    for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
                    controller.close();
                },
            });
            const seen = [];
            for await (const message of readEvents(stream)) seen.push(message);
            return seen;
        }""",
        SSE_CHUNKS,
    )
    assert events == [
        {"event": "node_started", "data": '{"node": "plan", "hop": 0}'},
        {"event": "draft_ready", "data": '{"text": "line one\\nline two"}\n'},
        {"event": "answer", "data": '{"answer": "done"}'},
    ]


def test_stop_cancels_the_stream_and_the_page_stays_usable(page, served, screenshot):
    sign_in(page, served.key)
    held: list[Any] = []  # the turn's request, held unanswered: the run is "in flight" until Stop

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/v1/sessions/*/messages", hold)
    page.fill("#question", QUESTION)
    with page.expect_request("**/v1/sessions/*/messages"):
        page.click("#ask-button")
    stop = page.locator("#stop-button")
    assert stop.is_visible() and page.locator("#ask-button").is_disabled()
    stop.click()
    run = page.locator("#thread > .turn .run[data-state='failed']")
    run.wait_for()
    assert run.locator(".run-status").text_content().startswith("Stopped.")
    assert stop.is_hidden() and page.locator("#ask-button").is_enabled()
    assert page.locator("#app-error").is_hidden()
    screenshot(page, "10-stopped")

    assert len(held) == 1  # the page gave up on it (Playwright counts the route as handled)
    page.unroute("**/v1/sessions/*/messages")
    turn = ask(page, "Which team owns Ledgerline?")  # the same session carries on
    assert "Payments Core" in turn.locator(".answer-text").text_content()
