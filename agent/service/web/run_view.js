// One run as it happens: the node working now, the hop, a meter per budget dimension (what is left of
// seconds, tokens and dollars, against what the run started with), a log of finished steps and the
// latest draft. Fed the stream's events in order.

import { count, el, usd } from "./render.js";

const DIMENSIONS = [
  { key: "seconds", label: "Time", format: (v) => `${Number(v).toFixed(1)} s` },
  { key: "tokens", label: "Tokens", format: count },
  { key: "usd", label: "Dollars", format: usd },
];
const MAX_LOG = 40;

export class RunView {
  constructor() {
    this.start = null;
    this.status = el("p", { class: "run-status", role: "status", "aria-live": "polite" }, "Starting the run…");
    this.meters = {};
    const meters = el("div", { class: "meters" });
    for (const d of DIMENSIONS) {
      const meter = el("meter", { min: 0, max: 1, value: 1, low: 0.2, optimum: 1 });
      const value = el("span", { class: "meter-value" }, "–");
      this.meters[d.key] = { meter, value, format: d.format };
      meters.append(el("div", { class: `meter meter-${d.key}`, dataset: { dimension: d.key } }, el("span", { class: "meter-label" }, d.label), meter, value));
    }
    this.log = el("ol", { class: "run-log" });
    this.draft = el("blockquote", { class: "draft", hidden: true });
    this.root = el(
      "section",
      { class: "run", "aria-label": "Run progress", dataset: { state: "running", node: "", hop: "0" } },
      this.status,
      meters,
      el("details", { class: "run-steps" }, el("summary", {}, "Steps"), this.log),
      this.draft,
    );
  }

  handle(type, payload) {
    if (!payload || typeof payload !== "object") return;
    const left = payload.budget_left || payload.left;
    if (left) this.budget(left);
    if (typeof payload.hop === "number") this.root.dataset.hop = String(payload.hop);
    switch (type) {
      case "node_started":
        this.root.dataset.node = payload.node;
        this.status.textContent = `Working: ${payload.node} · hop ${payload.hop}`;
        break;
      case "node_finished": {
        const span = payload.span || payload;
        const ms = typeof span.ms === "number" ? ` ${Math.round(span.ms)} ms` : "";
        const detail = span.detail ? ` — ${span.detail}` : "";
        this.note(`${span.node || payload.node} ${span.outcome || "done"}${ms}${detail}`, "node");
        break;
      }
      case "hits_found":
        this.note(`found ${payload.candidates} passages for “${payload.query}”`, "hits");
        break;
      case "tokens_spent":
        this.note(`${payload.node}: ${count(payload.tokens)} tokens, ${usd(payload.usd)} (run ${usd(payload.run_usd)})`, "tokens");
        break;
      case "draft_ready":
        this.draft.hidden = false;
        this.draft.replaceChildren(el("p", { class: "muted" }, `Draft after hop ${payload.hop}`), el("p", {}, payload.text));
        break;
      default:
        break;
    }
  }

  budget(left) {
    if (this.start === null) {
      this.start = { ...left };
      this.root.dataset.budget = "known";
    }
    for (const [key, { meter, value, format }] of Object.entries(this.meters)) {
      const now = left[key];
      if (now === null || now === undefined) {
        value.textContent = "no limit";
        continue;
      }
      const max = Math.max(Number(this.start[key]) || 0, Number(now), Number.EPSILON);
      meter.max = max;
      meter.low = max * 0.2;
      meter.optimum = max;
      meter.value = Math.max(0, Number(now));
      value.textContent = `${format(now)} left`;
    }
  }

  note(text, kind) {
    this.log.append(el("li", { class: `step step-${kind}` }, text));
    while (this.log.children.length > MAX_LOG) this.log.firstElementChild.remove();
  }

  finish(summary) {
    this.root.dataset.state = "done";
    this.root.dataset.node = "";
    this.status.textContent = summary;
    this.draft.hidden = true;
  }

  fail(message) {
    this.root.dataset.state = "failed";
    this.status.textContent = message;
  }
}
