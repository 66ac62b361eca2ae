// Drawing: when the charts redraw (at once, at the next frame, or only the contour's path layer while
// the learner drags or Play runs) and what they show (runs, arrows, the runs table, the player's line).
// DOM-free state lives in app; the charts and the player come in through the context main.js builds.

import { formatValue } from "./controls.js";
import { colorOf } from "./state.js";
import { hasVelocity } from "./catalog.js";
import { describeStatus, measuredRate } from "./trajectories.js";
import { $ } from "./page.js";

// While the learner drags a slider or the start point, or Play runs, only the contour's path layer
// (charts/paths.js) is redrawn, in a few ms; Plotly's figures, the 3D view and the panels follow
// once inputs have paused this long, so they never hold up the contour.
export const QUIET_MS = 400;

/**
 * The drawing functions over a context { app, contour, losses, surface3d, player, lessons, names, colors, hashOf }
 * (lessons is read when drawing: it exists once the catalog is loaded).
 */
export function createRenderer(ctx) {
  const { app, contour, losses, surface3d, player } = ctx;

  let quietTimer = null;
  function markBusy() {
    app.busyUntil = performance.now() + QUIET_MS;
    clearTimeout(quietTimer);
    quietTimer = setTimeout(() => {
      if (app.scene && location.hash !== ctx.hashOf()) history.replaceState(null, "", ctx.hashOf()); // the drag's last value
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
      store: app.store, colors: ctx.colors(), names: ctx.names(), start: app.scene.start,
      upto: player.cursor === null ? Infinity : player.cursor, arrows: currentArrows(),
    };
    // Lesson mode hides the loss and 3D views (a lesson draws its own panels): no need to draw them,
    // unless an embed link shows them (teach.js).
    const lessonMode = ctx.lessons?.active && !app.display?.embed;
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
      // (Until its code is loaded, which starts once the 2D plots are drawn: charts/surface3d.js.)
      heavy = new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now() < app.busyUntil ? null
        : surface3d.render({ ...args, after: flatDone }))));
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
      tr.innerHTML = `<td>${swatch}${ctx.names()[i]}</td><td class="status">${describeStatus(r, app.running)}</td><td>${final}</td>${rate}`;
      tbody.append(tr);
    });
  }

  function renderPlayer() {
    // Written only when they change: rewriting the same text still has the browser lay it out again,
    // at every frame of a drag or of Play.
    const btn = $("#play-btn"), label = player.playing ? "Pause" : "Play";
    if (btn.getAttribute("aria-label") !== label) {
      btn.textContent = player.playing ? "❚❚ Pause" : "▶ Play";
      btn.setAttribute("aria-label", label);
    }
    const max = app.store ? app.store.maxSteps : 0;
    const text = player.cursor === null ? `iteration ${max} of ${max}` : `iteration ${Math.min(player.cursor, max)} of ${max}`;
    const it = $("#iteration");
    if (it.textContent !== text) it.textContent = text;
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

  return { markBusy, scheduleRender, renderNow, renderNowIfQueued, redraw, render, renderStatus, renderPlayer,
    currentView, currentPoint, cursorPoints };
}
