// The wiring: controls → scene → server → charts. Everything else is in DOM-free modules.

import { RunSocket, checkFormula, fetchGrid, fetchTheory, fetchTune, loadCatalog, loadLessons } from "./api.js";
import { ContourChart } from "./charts/contour.js";
import { LossChart } from "./charts/losses.js";
import { SurfaceChart } from "./charts/surface3d.js";
import { formatValue, paramControl } from "./controls.js";
import { Player } from "./player.js";
import { CUSTOM, colorOf, fromHash, normalizeParams, normalizeScene, runRequest, surfaceSpec, toHash, validView } from "./state.js";
import { applySurface, hasVelocity, runLabels } from "./catalog.js";
import { RunStore, describeStatus, measuredRate, zTransform } from "./trajectories.js";
import { renderTheory } from "./panels.js";
import { LessonMode, stepFromHash } from "./lessons/mode.js";
import { displaySuffix, initTeach } from "./teach.js";
import { TunePanel } from "./tune.js";

const $ = (sel) => document.querySelector(sel);
const GRID_N = 120;

const app = {
  catalog: null,
  lessons: [],
  scene: null,
  store: null,
  running: false,
  grid: null,
  theory: null,
  renderQueued: false,
  lastHeavyRender: 0,
  lastLossRender: 0,
  runRequestedAt: 0,
  pending: null, // the run request in flight: { store, sentAt, done }
  queued: false, // the scene changed while a request was in flight: send it when that one is done
  busyUntil: 0, // a slider drag, a start-point drag or Play is going on until then
  behind: false, // only the contour's path layer shows the latest change (the rest follows when inputs pause)
  timing: null, // { sent, done } of the last run request, for benchmarks
};

// --- charts ---------------------------------------------------------------

const contour = new ContourChart($("#contour-plot"), { onPickStart, onRedraw: () => scheduleRender() });
const losses = new LossChart($("#loss-plot"));
const surface3d = new SurfaceChart($("#surface-plot"));
// Play, Step and Reset draw at once: an animation frame is already one, a click wants its answer now.
const player = new Player({ onFrame: () => {
  if (player.playing) markBusy();
  renderNow();
  if (player.cursor !== null) refreshTheory();
  lessons?.onFrame(player);
  lessons?.refresh({ cursorOnly: true });
} });
let lessons = null; // LessonMode, once the catalog is loaded
// Tune: every optimizer's best η (and β) on the scene on screen, with Undo and the protocol's panel.
const tunePanel = new TunePanel({
  actionsHost: $("#optimizer-list").parentElement, panelHost: $(".plot-grid"), before: $("#lesson-views"),
  scene: () => app.scene, catalog: () => app.catalog, fetchTune, toast,
  apply(optimizers) {
    app.scene.optimizers = optimizers;
    sceneChanged({ rebuild: true });
  },
});

function names() {
  const labels = lessons?.active ? lessons.labels() : null;
  // In a lesson, the server's labels (what differs, with its symbols); numbered as everywhere else.
  return runLabels(app.catalog, app.scene.optimizers).map((label, i) => (labels?.[i] ? `${i + 1}. ${labels[i]}` : label));
}

/** The URL hash of the scene on screen (and of the lesson step, while one is open; and embed/present flags). */
function hashOf() {
  return toHash(app.scene) + (lessons?.hashSuffix() ?? "") + displaySuffix();
}

function colors() {
  return app.scene.optimizers.map((_, i) => colorOf(i));
}

// A run that finishes within this long after its request is drawn once, complete (the page shows
// the previous run meanwhile); a longer one is drawn as it streams.
const STREAM_GRACE_MS = 100;
// While the learner drags a slider or the start point, or Play runs, only the contour's path layer
// (charts/paths.js) is redrawn, in a few ms; Plotly's figures, the 3D view and the panels follow
// once inputs have paused this long, so they never hold up the contour.
const QUIET_MS = 400;
// A request in flight for less than this is let finish, the newest scene waiting for it (one request
// in flight, the latest answer always drawn); an older one is superseded (a long run is streaming).
const COALESCE_MS = 250;

let quietTimer = null;
function markBusy() {
  app.busyUntil = performance.now() + QUIET_MS;
  clearTimeout(quietTimer);
  quietTimer = setTimeout(() => {
    if (app.scene && location.hash !== hashOf()) history.replaceState(null, "", hashOf()); // the drag's last value
    scheduleRender();
  }, QUIET_MS + 5);
}

function scheduleRender() {
  if (app.renderQueued) return;
  app.renderQueued = true;
  requestAnimationFrame(() => {
    if (!app.renderQueued) return; // drawn meanwhile (see renderNowIfQueued)
    app.renderQueued = false;
    render();
  });
}

/** Draw now; a draw already queued for the next frame is then not needed. */
function renderNow() {
  app.renderQueued = false;
  render();
}

/** A run just finished: draw it now rather than at the next frame, if a draw was waiting for it. */
function renderNowIfQueued() {
  if (!app.renderQueued) return scheduleRender();
  renderNow();
}

/** Draw every chart again from the data in memory, rebuilding each trace (benchmarks time this). */
function redraw() {
  for (const chart of [contour, losses, surface3d]) chart.decimator.clear();
  scheduleRender();
}

function currentArrows() {
  // At the animation's current point, as lilipads' visualizer draws them: the downhill direction −∇f
  // (solid head) and, for momentum methods, the step the velocity takes (open head).
  const out = [];
  if (!app.store || player.cursor === null) return out;
  const [x0, x1] = currentView();
  const span = (x1 - x0) * 0.11;
  const grads = app.theory?.grads || [];
  app.store.runs.forEach((r, i) => {
    const k = Math.min(player.cursor, r.xs.length - 1);
    if (k < 0) return;
    const from = [r.xs[k], r.ys[k]];
    // A gradient fetched for an earlier frame would point the wrong way: draw only a current one.
    const at = app.theory?.gradPoints?.[i];
    const g = at && at[0] === from[0] && at[1] === from[1] ? grads[i] : null;
    const gl = g ? Math.hypot(g[0], g[1]) : 0;
    if (gl > 0) out.push({ from, to: [from[0] - (g[0] / gl) * span, from[1] - (g[1] / gl) * span], color: colorOf(i), head: 2 });
    if (hasVelocity(app.catalog, r.optimizer, r.params)) {
      if (k + 1 < r.xs.length) {
        const dx = r.xs[k + 1] - r.xs[k], dy = r.ys[k + 1] - r.ys[k], len = Math.hypot(dx, dy);
        if (len > 0) out.push({ from, to: [from[0] + (dx / len) * span * 1.4, from[1] + (dy / len) * span * 1.4], color: colorOf(i), head: 6 });
      }
    }
  });
  return out;
}

/** Currently drawn point of every run (the animation's cursor), for the gradient arrows. */
function cursorPoints() {
  if (!app.store || player.cursor === null) return null;
  return app.store.runs.map((r) => {
    const k = Math.min(player.cursor, r.xs.length - 1);
    return k >= 0 ? [r.xs[k], r.ys[k]] : app.scene.start;
  });
}

function currentView() {
  return app.scene.view || app.catalog.surfaces[app.scene.surface].view;
}

function render() {
  if (!app.scene || !app.grid) return;
  const started = performance.now();
  const args = {
    store: app.store, colors: colors(), names: names(), start: app.scene.start,
    upto: player.cursor === null ? Infinity : player.cursor, arrows: currentArrows(),
  };
  // Lesson mode hides the loss and 3D views (a lesson draws its own panels): no need to draw them,
  // unless an embed link shows them (teach.js).
  const lessonMode = lessons?.active && !app.display?.embed;
  // A run still streaming in is drawn as it grows, by the path layer alone: the other plots wait for its end.
  const streaming = app.running && app.pending && !app.pending.done && app.store === app.pending.store;
  if (performance.now() < app.busyUntil || streaming) {
    // Only the contour's paths now; the rest once inputs pause (markBusy's timer draws it).
    contour.render({ ...args, lazy: true });
    app.behind = true;
    renderPlayer();
    // While playing, the loss curves grow once a second (a Plotly draw of 10–100 ms: more would cost frames).
    if (player.playing && !lessonMode && started - app.lastLossRender > 1000) {
      app.lastLossRender = started;
      losses.render({ ...args, zmin: app.grid.zmin });
    }
    window.dispatchEvent(new CustomEvent("losslab:rendered", { detail: { store: app.store, complete: !app.running, started,
      pathsDrawn: contour.pathsDrawn, lazy: true } }));
    return;
  }
  app.behind = false;
  const contourDrawn = contour.render(args);
  const pathsAt = contour.pathsDrawn; // the path layer draws at once unless Plotly has yet to draw the axes
  const flat = [contourDrawn, lessonMode ? null : losses.render({ ...args, zmin: app.grid.zmin })];
  renderStatus();
  renderPlayer();
  const detail = { store: app.store, complete: !app.running, started, flatDrawn: null, pathsDrawn: contour.pathsDrawn, lazy: false };
  const flatDone = Promise.all(flat).then(() => (detail.flatDrawn = performance.now()));
  // The 3D view is the slowest to draw: it follows in the next frame, so the 2D plots reach the
  // screen first, and while streaming it is refreshed at most every 150 ms.
  let heavy = null;
  const now = performance.now();
  if (!lessonMode && (!app.running || now - app.lastHeavyRender > 150)) {
    app.lastHeavyRender = now;
    // Skipped if a drag or Play started meanwhile: markBusy's timer draws it when that pauses.
    heavy = new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now() < app.busyUntil ? null : surface3d.render(args))));
  }
  // For benchmarks and tests: which data the plots now show, once Plotly has drawn it.
  Promise.all([flatDone, heavy]).then(() => {
    detail.pathsDrawn = pathsAt > started ? pathsAt : contour.pathsDrawn;
    window.dispatchEvent(new CustomEvent("losslab:rendered", { detail }));
  });
}

function renderStatus() {
  const tbody = $("#status-table tbody");
  tbody.replaceChildren();
  const quadratic = app.scene.surface === "quadratic";
  $("#rate-col").hidden = !quadratic;
  if (!app.store) return;
  app.store.runs.forEach((r, i) => {
    const tr = document.createElement("tr");
    tr.dataset.status = r.status;
    const swatch = `<span class="swatch" style="background:${colorOf(i)}"></span>`;
    const final = r.losses.length ? formatValue(r.losses[r.losses.length - 1]) : "–";
    let rate = "";
    if (quadratic) {
      const measured = measuredRate(r.xs, r.ys);
      const predicted = app.theory?.rates?.[i];
      rate = `<td>${measured === null ? "–" : formatValue(measured)} / ${predicted == null ? "–" : formatValue(predicted)}</td>`;
    }
    tr.innerHTML = `<td>${swatch}${names()[i]}</td><td class="status">${describeStatus(r, app.running)}</td><td>${final}</td>${rate}`;
    tbody.append(tr);
  });
}

function renderPlayer() {
  $("#play-btn").textContent = player.playing ? "❚❚ Pause" : "▶ Play";
  $("#play-btn").setAttribute("aria-label", player.playing ? "Pause" : "Play");
  const max = app.store ? app.store.maxSteps : 0;
  $("#iteration").textContent = player.cursor === null ? `iteration ${max} of ${max}` : `iteration ${Math.min(player.cursor, max)} of ${max}`;
}

/** The point whose Hessian the theory panel shows: run 1 at the animation cursor, else the start. */
function currentPoint() {
  const r = app.store?.runs[0];
  if (!r || !r.xs.length || player.cursor === null) return app.scene.start;
  const k = Math.min(player.cursor, r.xs.length - 1);
  const [x0, x1, y0, y1] = currentView(), w = x1 - x0, h = y1 - y0;
  const inside = r.xs[k] >= x0 - w && r.xs[k] <= x1 + w && r.ys[k] >= y0 - h && r.ys[k] <= y1 + h;
  return inside ? [r.xs[k], r.ys[k]] : app.scene.start; // the server has no theory for a point that far off
}

// --- running --------------------------------------------------------------

const socket = new RunSocket({
  onChunk(msg) {
    const p = app.pending;
    if (!p) return;
    p.store.addChunk(msg);
    // A run still streaming after the grace period is shown as it grows (unless a newer one waits).
    if (app.store !== p.store && !app.queued && performance.now() - p.sentAt > STREAM_GRACE_MS) app.store = p.store;
    if (app.store === p.store) scheduleRender();
  },
  onDone(msg) {
    const p = app.pending;
    if (!p) return;
    p.store.finish(msg);
    p.done = true;
    app.store = p.store;
    if (app.timing) app.timing.done = performance.now();
    if (app.queued) sendRun(); // the newest scene, asked for while this one was in flight
    else app.running = false;
    renderNowIfQueued();
    if (!app.running) refreshTheory();
  },
  onError(msg) {
    if (app.pending) app.pending.done = true;
    if (app.queued) sendRun();
    else app.running = false;
    toast(msg.message || "The server refused the request");
    scheduleRender();
  },
  onStatus(s) {
    $("#connection").textContent = s === "connected" ? "" : "reconnecting to the server…";
    // Back after a restart: the contour and theory may be another server's (its code or data changed).
    if (s === "connected" && app.wasDisconnected && app.scene) {
      refreshGrid();
      refreshTheory();
    }
    app.wasDisconnected = s !== "connected";
  },
});

function requestRun() {
  const now = performance.now();
  // Ghosts compare before and after a parameter change, kept at the start of a gesture (not at every
  // step of a drag); a different set of optimizers has none. A ghost belongs to the surface it was
  // run on: a new surface (or lesson) starts without any.
  const surfaceKey = JSON.stringify(surfaceSpec(app.scene));
  const same = app.store && app.store.surfaceKey === surfaceKey && app.store.runs.length === app.scene.optimizers.length &&
    app.store.runs.every((r, i) => r.optimizer === app.scene.optimizers[i].name);
  if (!same) contour.clearGhosts();
  else if (now - app.runRequestedAt > 2 * QUIET_MS && !app.running) contour.keepGhosts(app.store, colors());
  // A change soon after another is a drag: until it pauses only the path layer draws. A single
  // change (a click, a key press) has every plot drawn as soon as its run arrives.
  if (now - app.runRequestedAt < QUIET_MS) markBusy();
  app.runRequestedAt = now;
  app.running = true;
  const p = app.pending;
  if (p && !p.done && now - p.sentAt < COALESCE_MS) {
    app.queued = true; // sent when the request in flight is answered
    return;
  }
  sendRun();
}

/** Send the scene as it is now; its answer replaces the drawing when complete (or after the grace period). */
function sendRun() {
  app.queued = false;
  const store = new RunStore(app.scene.optimizers);
  store.surfaceKey = JSON.stringify(surfaceSpec(app.scene));
  if (!app.store) app.store = store;
  app.pending = { store, sentAt: performance.now(), done: false };
  app.timing = { sent: app.pending.sentAt, done: null };
  socket.run(runRequest(app.scene));
  scheduleRender();
}

async function refreshGrid() {
  const surface = surfaceSpec(app.scene);
  const key = JSON.stringify(surface);
  app.gridKey = key;
  const grid = await fetchGrid(surface, GRID_N).catch((e) => (toast(e.message), null));
  if (!grid || app.gridKey !== key) return;
  app.grid = grid;
  const info = { ...grid.surface, axes: app.catalog.surfaces[app.scene.surface].axes };
  const t = zTransform(grid.zmin, grid.zmax);
  contour.setSurface(grid, info, t);
  surface3d.setSurface(grid, info, t);
  scheduleRender();
}

let theoryTimer = null;
function refreshTheory() {
  clearTimeout(theoryTimer);
  theoryTimer = setTimeout(async () => {
    const surface = surfaceSpec(app.scene);
    const extras = {};
    extras.optimizers = app.scene.optimizers.map((o) => ({ name: o.name, params: o.params }));
    const key = markKey();
    const points = cursorPoints();
    if (points) extras.points = points;
    // The Hessian of the point on screen: run 1's current point while animating, else the start.
    const point = currentPoint();
    const theory = await fetchTheory(surface, point, extras).catch(() => null);
    if (!theory) return;
    theory.gradPoints = points; // the gradients belong to these points only
    theory.markKey = key; // and the rates and marks to these optimizers
    app.theory = theory;
    renderTheory($("#theory"), theory, app.store);
    markSliders();
    scheduleRender();
  }, 60);
}

/**
 * Theory's ticks on each optimizer's sliders: the marks the server computed for that optimizer
 * (engine/capabilities.py: GD 1/λmax and 2/λmax, heavy ball 2(1+β)/λmax, Nesterov its own edge,
 * Newton and preconditioned GD η = 1, none where no theory holds), or the open lesson's own marks.
 */
function markSliders() {
  const theory = app.theory;
  // Marks belong to the optimizers they were computed for: stale ones (an optimizer since changed) are not drawn.
  const fresh = theory?.markKey === markKey();
  document.querySelectorAll("#optimizer-list .opt-card").forEach((card, i) => {
    card.querySelectorAll(".param[data-param]").forEach((el) => {
      if (!el.setMarks) return;
      const name = el.dataset.param;
      if (fresh) el.setMarks((theory.marks?.[i] || []).filter((m) => m.param === name));
    });
  });
}

function markKey() {
  return JSON.stringify([surfaceSpec(app.scene), app.scene.optimizers]);
}

// --- scene changes ----------------------------------------------------------

let hashTimer = null;
/**
 * The scene into the URL: at once, then at most every 500 ms while a slider is dragged (browsers
 * throttle history updates, and each costs a few ms).
 */
function writeHash() {
  if (hashTimer) return;
  history.replaceState(null, "", hashOf());
  hashTimer = setTimeout(function trailing() {
    const hash = hashOf();
    if (location.hash === hash) {
      hashTimer = null;
      return;
    }
    history.replaceState(null, "", hash);
    hashTimer = setTimeout(trailing, 500);
  }, 500);
}

function sceneChanged({ grid = false, rebuild = false, focus = [] } = {}) {
  writeHash();
  if (rebuild) {
    buildControls(focus);
    lessons?.buildControls(app.scene);
  }
  if (grid) refreshGrid();
  refreshTheory();
  lessons?.refresh();
  requestRun();
  tunePanel.sceneChanged();
}

function onPickStart(point, dragging, released) {
  if (released) {
    refreshTheory();
    lessons?.refresh();
    return;
  }
  const [x0, x1, y0, y1] = currentView();
  const r = (v) => Number(v.toPrecision(4));
  app.scene.start = [r(Math.min(x1, Math.max(x0, point[0]))), r(Math.min(y1, Math.max(y0, point[1])))];
  $("#start-x").value = app.scene.start[0];
  $("#start-y").value = app.scene.start[1];
  writeHash();
  requestRun();
}

// --- controls -----------------------------------------------------------------

function buildSurfaceControls() {
  const entry = app.catalog.surfaces[app.scene.surface];
  $("#surface-select").value = app.scene.surface;
  $("#surface-description").textContent = entry.description;
  const box = $("#surface-params");
  if (app.scene.surface === CUSTOM) {
    box.replaceChildren(formulaControls(entry));
    return;
  }
  box.replaceChildren(...entry.params.map((spec) => paramControl(spec, app.scene.surfaceParams[spec.name], (v) => {
    app.scene.surfaceParams[spec.name] = v;
    sceneChanged({ grid: true });
  }, { idPrefix: "surface" })));
}

/** The typed formula, checked by the server as one types, with examples and the view box. */
function formulaControls(entry) {
  const wrap = document.createElement("div");
  const spec = entry.params.find((p) => p.name === "formula");
  wrap.innerHTML = `
    <div class="field"><label for="formula-input">${spec.label}</label>
      <textarea id="formula-input" rows="2" maxlength="${spec.max_length}" spellcheck="false" autocomplete="off"
        aria-describedby="formula-status"></textarea>
      <div id="formula-status" class="formula-status" role="status"></div></div>
    <div class="field"><label for="formula-example">Examples</label><select id="formula-example"></select></div>
    <div class="field inline4">
      ${["x min", "x max", "y min", "y max"].map((l, i) => `<div><label for="view-${i}">${l}</label>
        <input id="view-${i}" type="number" step="0.5"></div>`).join("")}
    </div>`;
  const input = wrap.querySelector("#formula-input");
  const status = wrap.querySelector("#formula-status");
  input.value = app.scene.formula;
  input.title = spec.description;
  const examples = wrap.querySelector("#formula-example");
  examples.append(new Option("Pick an example…", ""));
  for (const ex of entry.examples || []) examples.append(new Option(ex.title, ex.formula));
  examples.addEventListener("change", () => {
    const ex = (entry.examples || []).find((e) => e.formula === examples.value);
    if (!ex) return;
    app.scene.formula = ex.formula;
    app.scene.view = [...ex.view];
    app.scene = normalizeScene(app.scene, app.catalog);
    buildControls();
    sceneChanged({ grid: true });
  });
  app.scene.view.forEach((v, i) => {
    const el = wrap.querySelector(`#view-${i}`);
    el.value = v;
    el.addEventListener("change", () => {
      const view = [...app.scene.view];
      view[i] = Number(el.value);
      const lim = entry.view_limits;
      if (!validView(view, lim)) {
        status.textContent = `The view needs x min < x max and y min < y max, spans of at least ${lim.min_span} and |values| ≤ ${lim.max}.`;
        status.dataset.state = "error";
        return;
      }
      app.scene.view = view;
      app.scene = normalizeScene(app.scene, app.catalog);
      sceneChanged({ grid: true });
    });
  });
  let timer = null, seq = 0;
  const check = async () => {
    const text = input.value;
    const mine = ++seq;
    try {
      const res = await checkFormula(text);
      if (mine !== seq) return;
      status.dataset.state = "ok";
      status.textContent = `∇f = (${res.gradient[0]}, ${res.gradient[1]})`;
      input.removeAttribute("aria-invalid");
      if (text !== app.scene.formula) {
        app.scene.formula = text;
        sceneChanged({ grid: true });
      }
    } catch (e) {
      if (mine !== seq) return;
      status.dataset.state = "error";
      const d = Array.isArray(e.detail) ? e.detail[0] : null;
      status.textContent = (d?.msg || e.message).replace(/^custom\.formula: /, "");
      input.setAttribute("aria-invalid", "true");
      const col = d?.ctx?.column;
      if (col && document.activeElement !== input) input.setSelectionRange(col - 1, col);
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  check();
  return wrap;
}

function buildOptimizerCards() {
  const list = $("#optimizer-list");
  list.replaceChildren();
  app.scene.optimizers.forEach((opt, i) => {
    const spec = app.catalog.optimizers[opt.name];
    const card = document.createElement("div");
    card.className = "opt-card";
    card.style.setProperty("--opt-color", colorOf(i));
    const head = document.createElement("div");
    head.className = "opt-head";
    const selId = `opt-${i}-name`;
    head.innerHTML = `<span class="swatch" style="background:${colorOf(i)}"></span><label class="sr-only" for="${selId}">Optimizer ${i + 1}</label>`;
    const sel = document.createElement("select");
    sel.id = selId;
    for (const o of Object.values(app.catalog.optimizers)) sel.append(new Option(o.title, o.name, false, o.name === opt.name));
    sel.addEventListener("change", () => {
      app.scene.optimizers[i] = { name: sel.value, params: normalizeParams(app.catalog.optimizers[sel.value].params, {}) };
      sceneChanged({ rebuild: true });
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "icon remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove optimizer ${i + 1}`);
    remove.id = `opt-${i}-remove`;
    remove.title = "Remove this optimizer";
    remove.disabled = app.scene.optimizers.length <= 1;
    remove.addEventListener("click", () => {
      app.scene.optimizers.splice(i, 1);
      contour.clearGhosts();
      const n = app.scene.optimizers.length;
      // Focus the next card's remove button (or the previous one's, or its selector when it is the last).
      sceneChanged({ rebuild: true, focus: [`opt-${Math.min(i, n - 1)}-remove`, `opt-${Math.min(i, n - 1)}-name`] });
    });
    head.append(sel, remove);
    const formula = document.createElement("div");
    formula.className = "formula";
    formula.textContent = spec.formula;
    card.append(head, formula);
    for (const p of spec.params) {
      if (p.name === "seed" || p.name === "decay_every" && opt.params.schedule !== "step") continue;
      if (p.name === "batch_size" && !app.catalog.surfaces[app.scene.surface].is_data) continue;
      card.append(paramControl(p, opt.params[p.name], (v) => {
        opt.params[p.name] = v;
        sceneChanged({ rebuild: p.name === "schedule" });
      }, { idPrefix: `opt-${i}` }));
    }
    list.append(card);
  });
  $("#add-optimizer").disabled = app.scene.optimizers.length >= app.catalog.scene.limits.optimizers;
  markSliders();
}

/**
 * Rebuild the controls and keep keyboard focus where it was: on the control with the same id,
 * else on the nearest one that still exists (`fallbacks`, in order), never on the page's body.
 */
function buildControls(fallbacks = []) {
  const active = document.activeElement;
  const had = active && active !== document.body && active.closest?.(".controls") ? active.id : null;
  buildSurfaceControls();
  buildOptimizerCards();
  if (had) {
    const el = [had, ...fallbacks].map((id) => id && document.getElementById(id)).find((e) => e && !e.disabled);
    (el || $("#add-optimizer")).focus();
  }
  $("#steps-input").value = app.scene.steps;
  $("#seed-input").value = app.scene.seed;
  $("#tol-input").value = app.scene.tol;
  $("#start-x").value = app.scene.start[0];
  $("#start-y").value = app.scene.start[1];
}

function wireStaticControls() {
  const sel = $("#surface-select");
  for (const s of Object.values(app.catalog.surfaces)) sel.append(new Option(s.name === CUSTOM ? "Your own formula…" : s.title, s.name));
  sel.addEventListener("change", () => {
    // The surface's own start, steps, view and step sizes (its catalog entry), as one consistent scene.
    app.scene = normalizeScene(applySurface(app.scene, app.catalog, sel.value), app.catalog);
    app.grid = null; // the old contour is not drawn under the new runs
    contour.clearGhosts();
    player.pause();
    player.cursor = null;
    sceneChanged({ grid: true, rebuild: true });
  });
  $("#add-optimizer").addEventListener("click", () => {
    const used = new Set(app.scene.optimizers.map((o) => o.name));
    const next = Object.keys(app.catalog.optimizers).find((n) => !used.has(n)) || "gd";
    app.scene.optimizers.push({ name: next, params: normalizeParams(app.catalog.optimizers[next].params, {}) });
    sceneChanged({ rebuild: true });
  });
  const intInput = (el, key, [lo, hi]) => el.addEventListener("change", () => {
    const v = Math.round(Number(el.value));
    if (!Number.isFinite(v)) return;
    app.scene[key] = Math.min(hi, Math.max(lo, v));
    el.value = app.scene[key];
    sceneChanged();
  });
  const limits = app.catalog.scene.limits;
  for (const [id, key] of [["#steps-input", "steps"], ["#seed-input", "seed"]]) {
    Object.assign($(id), { min: limits[key][0], max: limits[key][1] });
    intInput($(id), key, limits[key]);
  }
  const tol = $("#tol-input");
  Object.assign(tol, { min: limits.tol[0], max: limits.tol[1] });
  tol.addEventListener("change", () => {
    const v = Number(tol.value);
    if (!Number.isFinite(v) || tol.value.trim() === "") return;
    app.scene.tol = Math.min(limits.tol[1], Math.max(limits.tol[0], v));
    tol.value = app.scene.tol;
    sceneChanged();
  });
  for (const [id, k] of [["#start-x", 0], ["#start-y", 1]]) {
    $(id).addEventListener("change", () => {
      const v = Number($(id).value);
      if (!Number.isFinite(v)) return;
      app.scene.start[k] = v;
      app.scene = normalizeScene(app.scene, app.catalog);
      buildControls();
      sceneChanged();
    });
  }
  const maxSteps = () => (app.store ? app.store.maxSteps : 0);
  maxSteps.done = () => !app.running;
  $("#play-btn").addEventListener("click", () => (player.playing ? player.pause() : player.play(maxSteps)));
  $("#step-btn").addEventListener("click", () => player.step(maxSteps));
  $("#reset-btn").addEventListener("click", () => player.reset());
  const speed = $("#speed-input");
  speed.value = Player.sliderFromSpeed(player.speed);
  const showSpeed = () => ($("#speed-output").textContent = `${player.speed} steps/s`);
  showSpeed();
  speed.addEventListener("input", () => {
    player.speed = Player.speedFromSlider(Number(speed.value));
    showSpeed();
  });
  $("#export-csv").addEventListener("click", () => download("losslab-trajectories.csv", app.store?.toCSV() ?? "", "text/csv"));
  $("#export-json").addEventListener("click", () => download("losslab-trajectories.json", app.store?.toJSON(app.scene) ?? "{}", "application/json"));
  $("#share-btn").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      toast("Link copied: it reproduces this exact scene");
    } catch {
      toast(location.href);
    }
  });
  $("#lesson-select").addEventListener("change", (ev) => openLesson(ev.target.value));
  $("#lesson-close").addEventListener("click", () => {
    app.scene.lesson = "";
    $("#lesson-select").value = "";
    lessons.close();
    buildControls();
    sceneChanged({ grid: true });
    $("#lesson-select").focus(); // the closed panel's button is gone: focus the nearest control
  });
  // A new link opened on this page (or edited by hand) replaces the whole state, as a fresh load would.
  window.addEventListener("hashchange", () => {
    if (location.hash === hashOf()) return;
    applyHash(location.hash);
  });
}

// --- lessons ------------------------------------------------------------------

function openLesson(id, step = 1) {
  const lesson = app.lessons.find((l) => l.id === id);
  if (!lesson) return;
  $("#lesson-select").value = id;
  lessons.open(lesson, step); // loads the step's scene through the hooks below
}

/** A step's scene on screen: every control rebuilt, the animation back at the end. */
function loadLessonScene(scene) {
  app.scene = normalizeScene({ ...scene, lesson: lessons.lesson.id }, app.catalog);
  app.grid = null;
  contour.clearGhosts();
  player.pause();
  player.cursor = null;
  buildControls();
  lessons.buildControls(app.scene);
  sceneChanged({ grid: true });
}

/** Open whatever a hash says: a short lesson link opens the step's own scene, a full link its own scene. */
function applyHash(hash) {
  const scene = normalizeScene(fromHash(hash, app.catalog), app.catalog);
  const lesson = app.lessons.find((l) => l.id === scene.lesson);
  const short = !/(^#|&)s=/.test(hash);
  player.pause();
  player.cursor = null;
  app.grid = null; // the whole state, drawn afresh: no ghosts, no old contour
  contour.clearGhosts();
  if (lesson && short) return openLesson(lesson.id, stepFromHash(hash));
  app.scene = scene;
  if (lesson) {
    $("#lesson-select").value = lesson.id;
    lessons.open(lesson, stepFromHash(hash), { load: false });
  } else {
    $("#lesson-select").value = "";
    lessons.close();
  }
  buildControls();
  lessons.buildControls(app.scene);
  sceneChanged({ grid: true });
}

// --- utilities ----------------------------------------------------------------

function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

let toastTimer = null;
function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 4000);
}

// --- start --------------------------------------------------------------------

async function start() {
  [app.catalog, app.lessons] = await Promise.all([loadCatalog(), loadLessons().catch(() => [])]);
  const lessonSel = $("#lesson-select");
  for (const l of app.lessons) lessonSel.append(new Option(`${l.number}. ${l.title}`, l.id));
  lessonSel.hidden = app.lessons.length === 0;
  app.scene = normalizeScene(fromHash(location.hash, app.catalog), app.catalog);
  lessons = new LessonMode({
    panel: $("#lesson-panel"), side: $("#lesson-views"), catalog: app.catalog,
    hooks: {
      loadScene: loadLessonScene,
      scene: () => app.scene,
      setParam(run, name, value) {
        if (run === null) app.scene.surfaceParams[name] = value;
        else app.scene.optimizers[run].params[name] = value;
        sceneChanged({ grid: run === null });
      },
      setParams(run, params) {
        Object.assign(app.scene.optimizers[run].params, params);
        sceneChanged({ rebuild: true });
      },
      request: () => runRequest(app.scene),
      cursor: () => player.cursor,
      play: () => player.play(Object.assign(() => (app.store ? app.store.maxSteps : 0), { done: () => !app.running })),
      onLabels: () => scheduleRender(),
      toast,
    },
  });
  wireStaticControls();
  // Present mode's Next/Back (teach.js): the open lesson's next or previous step; false past either end.
  app.lessonStep = (delta) => {
    const n = lessons.active ? lessons.n + delta : 0;
    if (n < 1 || n > lessons.lesson.steps.length) return false;
    lessons.go(n);
    return true;
  };
  initTeach({ app, toast, download });
  // A teacher's short link (#lesson=id&step=n) opens the step's own scene.
  applyHash(location.hash);
  document.body.dataset.ready = "true";
}

start().catch((e) => {
  console.error(e);
  toast(`Loss Lab could not start: ${e.message}`);
});

// For tests and the curious: the live state, read-only by convention; redraw() draws it again
// from memory (benchmarks compare that with a redraw that waits for the server).
app.redraw = redraw;
app.tune = tunePanel;
window.lossLab = app;
