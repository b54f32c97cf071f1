// The HTTP API as the page uses it: JSON calls with the bearer key, and Server-Sent Events read from a
// POST response (EventSource can neither POST nor send headers, so the stream is parsed here).

export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's error page, or an empty body
  }
  const error = body && body.error;
  if (error && typeof error.message === "string") {
    return new ApiError(response.status, error.code || "error", error.message, error.field || null);
  }
  return new ApiError(response.status, "http_" + response.status, `The server answered ${response.status} ${response.statusText}.`);
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.key}`, ...extra };
  }

  async get(path) {
    return this.send("GET", path);
  }

  async post(path, body) {
    return this.send("POST", path, body);
  }

  async send(method, path, body) {
    const init = { method, headers: this.headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    let response;
    try {
      response = await fetch(path, init);
    } catch (cause) {
      throw new ApiError(0, "unreachable", `Cannot reach the Quarry server (${cause.message}).`);
    }
    if (!response.ok) throw await failure(response);
    return response.status === 204 ? null : response.json();
  }

  // POST `body` asking for an event stream; `onEvent(type, payload)` sees every event in order, and the
  // promise resolves to the final `answer` event's payload.
  async stream(path, body, onEvent, signal) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        headers: this.headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
        body: JSON.stringify(body),
        signal,
      });
    } catch (cause) {
      throw new ApiError(0, "unreachable", `Cannot reach the Quarry server (${cause.message}).`);
    }
    if (!response.ok) throw await failure(response);
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("text/event-stream")) {
      const answer = await response.json();
      onEvent("answer", answer);
      return answer;
    }
    let final = null;
    for await (const message of readEvents(response.body)) {
      let payload;
      try {
        payload = JSON.parse(message.data);
      } catch {
        payload = message.data;
      }
      if (message.event === "error") {
        const error = (payload && payload.error) || {};
        throw new ApiError(500, error.code || "run_failed", error.message || "The run failed on the server.", error.field || null);
      }
      if (message.event === "answer") final = payload;
      onEvent(message.event, payload);
    }
    if (final === null) {
      throw new ApiError(0, "stream_cut", "The stream ended before the answer arrived (the connection dropped). Ask again.");
    }
    return final;
  }
}

// Server-Sent Events (the WHATWG event-stream format): blocks separated by a blank line, `event:` and
// `data:` fields, comment lines starting with ':' (keep-alives) ignored.
export async function* readEvents(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    // A CR at the end of a chunk may be the first half of a CRLF: keep it until the next chunk.
    const cut = buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
    const ready = buffer.slice(0, cut).replace(/\r\n?/g, "\n");
    buffer = ready + buffer.slice(cut);
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = parseBlock(block);
      if (message) yield message;
    }
  }
  const last = parseBlock(buffer.replace(/\r\n?/g, "\n"));
  if (last) yield last;
}

function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: data.join("\n") } : null;
}
