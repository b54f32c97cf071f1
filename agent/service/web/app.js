// The page: sign in with an API key, ask and follow up in a chat session while the run streams, open
// citations, browse past sessions and spend. Plain DOM, no framework and no build step.

import { Api, ApiError } from "./api.js";
import { answerSummary, answerText, citedDocument, el, sourceList, table, usd } from "./render.js";
import { RunView } from "./run_view.js";

const KEY = "quarry.api-key";
const $ = (id) => document.getElementById(id);

const state = { api: null, account: null, sessionId: null, busy: false, stop: null };

function show(node, visible) {
  node.hidden = !visible;
}

function showError(node, error) {
  node.textContent = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  show(node, true);
}

// -- signing in ---------------------------------------------------------------------------------

async function signIn(key) {
  const api = new Api(key);
  const me = await api.get("/v1/me");
  state.api = api;
  state.account = me.account || null;
  sessionStorage.setItem(KEY, key);
  $("who-principal").textContent = me.principal;
  $("who-groups").textContent = (me.groups || []).join(", ");
  show($("who"), true);
  show($("login-view"), false);
  show($("app-view"), true);
  newChat();
  await Promise.all([loadSessions(), loadSpend()]);
}

function signOut() {
  if (state.stop) state.stop.abort();
  sessionStorage.removeItem(KEY);
  state.api = null;
  state.sessionId = null;
  $("thread").replaceChildren();
  $("sessions").replaceChildren();
  $("spend").replaceChildren();
  show($("who"), false);
  show($("app-view"), false);
  show($("login-view"), true);
  $("api-key").value = "";
  $("api-key").focus();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  show($("login-error"), false);
  $("login-button").disabled = true;
  try {
    await signIn(key);
  } catch (error) {
    sessionStorage.removeItem(KEY);
    const message = error.status === 401 ? `That key was not accepted: ${error.message}` : error.message;
    showError($("login-error"), message);
  } finally {
    $("login-button").disabled = false;
  }
});

$("logout").addEventListener("click", signOut);

// -- asking -------------------------------------------------------------------------------------

function newChat() {
  state.sessionId = null;
  $("chat-title").textContent = "New conversation";
  $("thread").replaceChildren();
  markCurrentSession();
  $("question").focus();
}

$("new-chat").addEventListener("click", newChat);

function budgetFromForm() {
  const budget = {};
  const seconds = $("budget-seconds").valueAsNumber;
  const dollars = $("budget-usd").valueAsNumber;
  if (Number.isFinite(seconds)) budget.max_seconds = seconds;
  if (Number.isFinite(dollars)) budget.max_usd = dollars;
  return Object.keys(budget).length ? budget : null;
}

function turnItem(question) {
  return el("li", { class: "turn" }, el("p", { class: "question" }, question));
}

// `withSummary`: a past turn shows its outcome and spend under the answer; a live one has them in its
// run panel already.
function renderAnswer(item, answer, withSummary) {
  const open = (n) => openCitation(answer, n);
  const citations = answer.citations || [];
  const block = el("article", { class: "answer", dataset: { runId: answer.run_id || "" } });
  if (answer.asked_as && answer.asked_as !== answer.question) {
    block.append(el("p", { class: "rewritten muted" }, `Researched as: ${answer.question}`));
  }
  block.append(answerText(answer.answer, citations, open));
  if (citations.length) block.append(el("h3", { class: "sources-heading" }, "Sources"), sourceList(citations, open));
  if (answer.gaps && answer.gaps.length) block.append(el("p", { class: "muted" }, "Still open: " + answer.gaps.join("; ")));
  if (withSummary) block.append(el("p", { class: "summary muted" }, answerSummary(answer)));
  item.append(block);
}

$("ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (state.busy) return;
  const question = $("question").value.trim();
  if (!question) return;
  show($("app-error"), false);
  state.busy = true;
  state.stop = new AbortController();
  const { signal } = state.stop;
  $("ask-button").disabled = true;
  show($("stop-button"), true);
  const item = turnItem(question);
  const run = new RunView();
  item.append(run.root);
  $("thread").append(item);
  item.scrollIntoView({ block: "end" });
  try {
    if (state.sessionId === null) {
      const created = await state.api.post("/v1/sessions", {});
      state.sessionId = created.session_id;
      $("chat-title").textContent = question;
    }
    const body = { question };
    const budget = budgetFromForm();
    if (budget) body.budget = budget;
    const answer = await state.api.stream(`/v1/sessions/${encodeURIComponent(state.sessionId)}/messages`, body, (type, payload) => run.handle(type, payload), signal);
    run.finish(answerSummary(answer));
    renderAnswer(item, answer, false);
    $("question").value = "";
    loadSessions();
    loadSpend();
  } catch (error) {
    if (signal.aborted) {
      run.fail("Stopped. Closing the stream cancels the run; the ledger records it as cancelled.");
    } else {
      run.fail(error.message);
      showError($("app-error"), error);
      if (error.status === 401) signOut();
    }
  } finally {
    state.busy = false;
    state.stop = null;
    $("ask-button").disabled = false;
    show($("stop-button"), false);
  }
});

$("stop-button").addEventListener("click", () => {
  if (state.stop) state.stop.abort();
});

$("question").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("ask-form").requestSubmit();
  }
});

// -- citations ----------------------------------------------------------------------------------

async function openCitation(answer, n) {
  const dialog = $("citation-dialog");
  const cited = (answer.citations || []).find((c) => c.number === n) || {};
  $("citation-title").textContent = `[${n}] ${cited.title || "Source"}`;
  $("citation-meta").textContent = "Opening…";
  show($("citation-note"), false);
  $("citation-body").replaceChildren();
  if (!dialog.open) dialog.showModal();
  try {
    const data = await state.api.get(`/v1/citations/${encodeURIComponent(answer.run_id)}/${n}`);
    const page = data.page ?? cited.page;
    const published = data.published_at ? data.published_at.slice(0, 10) : null;
    const where = [data.source || cited.source, page ? `page ${page}` : null, data.author, published].filter(Boolean);
    $("citation-title").textContent = `[${n}] ${data.title || cited.title || "Source"}`;
    $("citation-meta").textContent = where.join(" · ");
    if (data.changed) {
      $("citation-note").textContent = "The document changed since this answer: the passage is shown as it was cited.";
      show($("citation-note"), true);
    }
    const { node, mark } = citedDocument(data);
    $("citation-body").replaceChildren(node);
    mark.scrollIntoView({ block: "center" });
  } catch (error) {
    $("citation-meta").textContent = "";
    $("citation-note").textContent = error.message;
    show($("citation-note"), true);
  }
}

$("citation-close").addEventListener("click", () => $("citation-dialog").close());
$("citation-dialog").addEventListener("click", (event) => {
  if (event.target === event.currentTarget) event.currentTarget.close(); // a click on the backdrop
});

// -- sessions and spend -------------------------------------------------------------------------

function markCurrentSession() {
  for (const item of $("sessions").children) {
    if (item.dataset.sessionId === state.sessionId) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
}

async function loadSessions() {
  try {
    const sessions = await state.api.get("/v1/sessions");
    $("sessions").replaceChildren(
      ...sessions.map((s) => {
        const id = s.session_id;
        const label = s.first_question || `Session ${String(id).slice(0, 8)}`;
        const when = s.updated_at || s.created_at;
        const details = [`${s.turns} turn(s)`, typeof s.usd === "number" ? usd(s.usd) : null, when ? new Date(when).toLocaleString() : null].filter(Boolean).join(" · ");
        return el("li", { dataset: { sessionId: id } }, el("button", { type: "button", class: "session", onclick: () => openSession(id, label) }, label), el("span", { class: "muted" }, details));
      }),
    );
    show($("sessions-empty"), sessions.length === 0);
    markCurrentSession();
  } catch (error) {
    showError($("app-error"), error);
  }
}

async function openSession(id, label) {
  if (state.busy) return;
  show($("app-error"), false);
  try {
    const { messages } = await state.api.get(`/v1/sessions/${encodeURIComponent(id)}/messages`);
    state.sessionId = id;
    $("chat-title").textContent = label;
    $("thread").replaceChildren();
    for (const message of messages) {
      const item = turnItem(message.asked || message.question);
      renderAnswer(item, message.answer, true);
      $("thread").append(item);
    }
    markCurrentSession();
  } catch (error) {
    showError($("app-error"), error);
  }
}

async function loadSpend() {
  try {
    const spend = await state.api.get("/v1/spend");
    const parts = [el("p", { class: "spend-total" }, `Total ${usd(spend.total_usd)} (by ${spend.by})`), table(spend.rows.map((r) => ({ [spend.by]: r.key, runs: r.runs, tokens: r.input_tokens + r.output_tokens, usd: r.usd })))];
    if (state.account) parts.unshift(el("h3", {}, "Account"), table(state.account));
    $("spend").replaceChildren(...parts);
  } catch (error) {
    showError($("app-error"), error);
  }
}

$("refresh").addEventListener("click", () => {
  loadSessions();
  loadSpend();
});

// -- start --------------------------------------------------------------------------------------

const saved = sessionStorage.getItem(KEY);
if (saved) {
  signIn(saved).catch(() => signOut());
} else {
  signOut();
}
