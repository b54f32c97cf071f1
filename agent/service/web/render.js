// DOM builders. Every string from the server (answers, titles, document text) goes in as a text node:
// nothing here parses HTML, so a document cannot inject markup or script into the page.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function usd(value) {
  if (value === null || value === undefined) return "–";
  return "$" + Number(value).toFixed(Math.abs(value) < 1 ? 4 : 2);
}

export function count(value) {
  return value === null || value === undefined ? "–" : Number(value).toLocaleString("en");
}

// The answer's paragraphs, with each `[n]` that names a citation turned into a button opening it.
export function answerText(text, citations, open) {
  const numbers = new Set(citations.map((c) => c.number));
  const body = el("div", { class: "answer-text" });
  for (const paragraph of String(text).split(/\n{2,}/)) {
    const p = el("p");
    let at = 0;
    for (const match of paragraph.matchAll(/\[(\d+)\]/g)) {
      const n = Number(match[1]);
      if (!numbers.has(n)) continue;
      p.append(paragraph.slice(at, match.index));
      p.append(el("button", { type: "button", class: "cite", dataset: { n: String(n) }, "aria-label": `Open source ${n}`, onclick: () => open(n) }, `[${n}]`));
      at = match.index + match[0].length;
    }
    p.append(paragraph.slice(at));
    body.append(p);
  }
  return body;
}

export function sourceList(citations, open) {
  return el(
    "ol",
    { class: "sources" },
    citations.map((c) =>
      el(
        "li",
        {},
        el("button", { type: "button", class: "source", dataset: { n: String(c.number) }, onclick: () => open(c.number) }, `[${c.number}] ${c.title}`),
        el("span", { class: "muted" }, ` ${c.source}${c.page ? `, page ${c.page}` : ""}`),
      ),
    ),
  );
}

export function answerSummary(answer) {
  const spend = answer.spend || {};
  const parts = [];
  if (answer.cache_hit) parts.push(`served from the cache (saved ${usd(answer.saved_usd)})`);
  else if (answer.partial) parts.push(`partial: stopped by ${answer.stopped_by} after ${answer.hops} hop(s)`);
  else parts.push(`complete after ${answer.hops} hop(s)`);
  parts.push(usd(spend.usd), `${count((spend.input_tokens || 0) + (spend.output_tokens || 0))} tokens`);
  if (typeof answer.elapsed_s === "number") parts.push(`${answer.elapsed_s.toFixed(1)} s`);
  if (answer.model) parts.push(answer.model);
  return parts.join(" · ");
}

// The cited document with the cited span marked (GET /v1/citations/{run}/{n}: `text` and the span's
// `start_char`/`end_char`). Offsets count Unicode code points (Python's str indices), so the text is
// sliced by code point, not by UTF-16 unit: an emoji before the span must not shift the mark.
export function citedDocument(data) {
  const points = Array.from(String(data.text ?? ""));
  const start = Number(data.start_char ?? 0);
  const end = Number(data.end_char ?? points.length);
  const mark = el("mark", { id: "cited-span" }, points.slice(start, end).join(""));
  return { node: el("div", {}, points.slice(0, start).join(""), mark, points.slice(end).join("")), mark };
}

// Any flat JSON (a list of rows, or one object) as a small table: spend rows, account figures.
export function table(value) {
  const rows = Array.isArray(value) ? value : value && typeof value === "object" ? [value] : [];
  if (!rows.length) return el("p", { class: "muted" }, "Nothing spent yet.");
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))].filter((key) => rows.some((row) => typeof row[key] !== "object" || row[key] === null));
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      {},
      el("thead", {}, el("tr", {}, columns.map((key) => el("th", { scope: "col" }, key.replace(/_/g, " "))))),
      el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((key) => el("td", {}, cell(key, row[key])))))),
    ),
  );
}

function cell(key, value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (key.includes("usd") || key.includes("cost") || key.includes("dollar")) return usd(value);
    return Number.isInteger(value) ? count(value) : value.toFixed(3);
  }
  return String(value);
}
