// Talking to the server: JSON endpoints and the streaming socket. No DOM here.

async function postJSON(url, body, signal) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.message || `HTTP ${res.status}`);
    err.status = res.status;
    err.detail = data.detail;
    throw err;
  }
  return data;
}

export async function loadCatalog() {
  const [s, o, f, sc] = await Promise.all([fetch("/api/surfaces"), fetch("/api/optimizers"), fetch("/api/formula"),
    fetch("/api/scene")]);
  const surfaces = {}, optimizers = {};
  for (const entry of (await s.json()).surfaces) surfaces[entry.name] = entry;
  if (f.ok) {
    const custom = (await f.json()).surface;
    surfaces[custom.name] = custom; // its one parameter is the formula text, edited by its own control
  }
  for (const entry of (await o.json()).optimizers) optimizers[entry.name] = entry;
  // scene: { defaults, limits }, the scene format's one home (GET /api/scene)
  return { surfaces, optimizers, scene: await sc.json() };
}

export async function loadLessons() {
  const res = await fetch("/api/lessons");
  return res.ok ? (await res.json()).lessons : [];
}

export const fetchGrid = (surface, n, signal) => postJSON("/api/grid", { surface, n }, signal);
export const fetchTheory = (surface, point, extras = {}, signal) => postJSON("/api/theory", { surface, point, ...extras }, signal);
export const checkFormula = (formula, signal) => postJSON("/api/formula", { formula }, signal);
export const fetchRun = (body, signal) => postJSON("/api/run", body, signal);
export const fetchSweep = (body, signal) => postJSON("/api/sweep", body, signal);
export const fetchTune = (body, signal) => postJSON("/api/tune", body, signal);

/**
 * One WebSocket that always serves the latest request: every message carries the id of
 * the request it answers, and messages for any older id are dropped. Reconnects on its
 * own (the server may restart under an open page) and re-sends the latest request, even
 * a finished one, so that what the page draws comes from the server it is talking to now.
 */
export class RunSocket {
  constructor({ onChunk, onDone, onError, onStatus }) {
    this.handlers = { onChunk, onDone, onError, onStatus };
    this.nextId = 1;
    this.current = null; // { id, body, done }
    this.opened = false; // true once a connection has opened: later opens are reconnections
    this.retryMs = 250;
    this.connect();
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/ws/run`;
  }

  connect() {
    this.ws = new WebSocket(this.url());
    this.ws.onopen = () => {
      const reconnected = this.opened;
      this.opened = true;
      this.retryMs = 250;
      this.handlers.onStatus?.("connected");
      // First open: send the request made while connecting. On a reconnection re-run the scene
      // the page shows: a stream cut short is gone, and a finished drawing may be stale. Its
      // chunks start again at entry 0, which replaces what was drawn.
      if (this.current && (reconnected || !this.current.done)) {
        this.current.done = false;
        this.ws.send(JSON.stringify({ ...this.current.body, id: this.current.id }));
      }
    };
    this.ws.onmessage = (ev) => this.receive(JSON.parse(ev.data));
    this.ws.onclose = () => {
      this.handlers.onStatus?.("reconnecting");
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(4000, this.retryMs * 2);
    };
    this.ws.onerror = () => {};
  }

  /** Ask for a run; returns its id. Any run still streaming is superseded. */
  run(body) {
    const id = this.nextId++;
    this.current = { id, body, done: false };
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ ...body, id }));
    return id;
  }

  receive(msg) {
    if (!this.current || msg.id !== this.current.id) return; // stale: an older request
    if (msg.type === "chunk") this.handlers.onChunk?.(msg);
    else if (msg.type === "done") {
      this.current.done = true;
      this.handlers.onDone?.(msg);
    } else if (msg.type === "error") {
      this.current.done = true;
      this.handlers.onError?.(msg);
    }
  }
}
