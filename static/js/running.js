// Running: the scene to the server (one run request in flight, the newest scene sent when it is
// answered), the contour's grid and the theory panel fetched for it, and theory's marks on the sliders.

import { RunSocket, fetchGrid, fetchTheory } from "./api.js";
import { surfaceSpec, runRequest } from "./state.js";
import { RunStore, zTransform } from "./trajectories.js";
import { renderTheory } from "./panels.js";
import { QUIET_MS } from "./render.js";
import { $ } from "./page.js";

const GRID_N = 120;
// A run that finishes within this long after its request is drawn once, complete (the page shows
// the previous run meanwhile); a longer one is drawn as it streams.
const STREAM_GRACE_MS = 100;
// A request in flight for less than this is let finish, the newest scene waiting for it (one request
// in flight, the latest answer always drawn); an older one is superseded (a long run is streaming).
const COALESCE_MS = 250;

/**
 * The server side of the page over a context { app, contour, surface3d, player, toast, colors } and the
 * renderer's functions (markBusy, scheduleRender, renderNowIfQueued, cursorPoints, currentPoint).
 */
export function createRunner(ctx) {
  const { app, contour, surface3d, toast } = ctx;
  const socket = new RunSocket({
    onChunk(msg) {
      const p = app.pending;
      if (!p) return;
      p.store.addChunk(msg);
      // A run still streaming after the grace period is shown as it grows (unless a newer one waits).
      if (app.store !== p.store && !app.queued && performance.now() - p.sentAt > STREAM_GRACE_MS) app.store = p.store;
      if (app.store === p.store) ctx.scheduleRender();
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
      ctx.renderNowIfQueued();
      if (!app.running) refreshTheory();
    },
    onError(msg) {
      if (app.pending) app.pending.done = true;
      if (app.queued) sendRun();
      else app.running = false;
      toast(msg.message || "The server refused the request");
      ctx.scheduleRender();
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
    else if (now - app.runRequestedAt > 2 * QUIET_MS && !app.running) contour.keepGhosts(app.store, ctx.colors());
    // A change soon after another is a drag: until it pauses only the path layer draws. A single
    // change (a click, a key press) has every plot drawn as soon as its run arrives.
    if (now - app.runRequestedAt < QUIET_MS) ctx.markBusy();
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
    ctx.scheduleRender();
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
    ctx.scheduleRender();
  }

  let theoryTimer = null;
  function refreshTheory() {
    clearTimeout(theoryTimer);
    theoryTimer = setTimeout(async () => {
      const surface = surfaceSpec(app.scene);
      const extras = {};
      extras.optimizers = app.scene.optimizers.map((o) => ({ name: o.name, params: o.params }));
      const key = markKey();
      const points = ctx.cursorPoints();
      if (points) extras.points = points;
      // The Hessian of the point on screen: run 1's current point while animating, else the start.
      const point = ctx.currentPoint();
      const theory = await fetchTheory(surface, point, extras).catch(() => null);
      if (!theory) return;
      theory.gradPoints = points; // the gradients belong to these points only
      theory.markKey = key; // and the rates and marks to these optimizers
      app.theory = theory;
      renderTheory($("#theory"), theory, app.store);
      markSliders();
      ctx.scheduleRender();
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

  return { socket, requestRun, sendRun, refreshGrid, refreshTheory, markSliders };
}
