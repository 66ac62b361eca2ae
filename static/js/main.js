// The wiring: controls → scene → server → charts. It builds the page's parts and hands each a small
// context (ctx) with what it needs; the parts are render.js (drawing), running.js (the server),
// scene_controls.js (the controls panel) and navigation.js (the URL hash and lessons). Everything
// else is in DOM-free modules (state.js, trajectories.js, player.js, catalog.js) and the charts.

import { firstRequests } from "./boot.js"; // first: its requests start before Plotly.js is evaluated
import "/vendor/plotly/plotly-2d.js"; // sets window.Plotly (the 3D view's trace types load later: charts/surface3d.js)
import { fetchTune } from "./api.js";
import { ContourChart } from "./charts/contour.js";
import { LossChart } from "./charts/losses.js";
import { SurfaceChart } from "./charts/surface3d.js";
import { Player } from "./player.js";
import { colorOf, fromHash, normalizeScene, runRequest } from "./state.js";
import { runLabels } from "./catalog.js";
import { LessonMode } from "./lessons/mode.js";
import { initTeach } from "./teach.js";
import { TunePanel } from "./tune.js";
import { $, download, toast } from "./page.js";
import { createRenderer } from "./render.js";
import { createRunner } from "./running.js";
import { createNavigation } from "./navigation.js";
import { createControls } from "./scene_controls.js";

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

// What the page's parts share: the state, the charts, the player, the lesson mode (once the catalog
// is loaded), and each part's functions (added below), read when called.
const ctx = { app, lessons: null, toast, download, names, colors, sceneChanged, onPickStart };

// --- charts ---------------------------------------------------------------

ctx.contour = new ContourChart($("#contour-plot"), { onPickStart, onRedraw: () => ctx.scheduleRender() });
ctx.losses = new LossChart($("#loss-plot"));
ctx.surface3d = new SurfaceChart($("#surface-plot"));
// Play, Step and Reset draw at once: an animation frame is already one, a click wants its answer now.
const player = ctx.player = new Player({ onFrame: () => {
  if (player.playing) ctx.markBusy();
  ctx.renderNow();
  if (player.cursor !== null) ctx.refreshTheory();
  ctx.lessons?.onFrame(player);
  ctx.lessons?.refresh({ cursorOnly: true });
} });
// Tune: every optimizer's best η (and β) on the scene on screen, with Undo and the protocol's panel.
const tunePanel = new TunePanel({
  actionsHost: $("#optimizer-list").parentElement, panelHost: $(".plot-grid"), before: $("#lesson-views"),
  scene: () => app.scene, catalog: () => app.catalog, fetchTune, toast,
  apply(optimizers) {
    app.scene.optimizers = optimizers;
    sceneChanged({ rebuild: true });
  },
});

Object.assign(ctx, createRenderer(ctx), createRunner(ctx), createNavigation(ctx), createControls(ctx));
const { buildControls, currentView, refreshGrid, refreshTheory, requestRun, writeHash } = ctx;

function names() {
  const labels = ctx.lessons?.active ? ctx.lessons.labels() : null;
  // In a lesson, the server's labels (what differs, with its symbols); numbered as everywhere else.
  return runLabels(app.catalog, app.scene.optimizers).map((label, i) => (labels?.[i] ? `${i + 1}. ${labels[i]}` : label));
}

function colors() {
  return app.scene.optimizers.map((_, i) => colorOf(i));
}

// --- scene changes ----------------------------------------------------------

function sceneChanged({ grid = false, rebuild = false, focus = [] } = {}) {
  writeHash();
  if (rebuild) {
    buildControls(focus);
    ctx.lessons?.buildControls(app.scene);
  }
  if (grid) refreshGrid();
  refreshTheory();
  ctx.lessons?.refresh();
  requestRun();
  tunePanel.sceneChanged();
}

function onPickStart(point, dragging, released) {
  if (released) {
    refreshTheory();
    ctx.lessons?.refresh();
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

// --- start --------------------------------------------------------------------

async function start() {
  [app.catalog, app.lessons] = await firstRequests;
  const lessonSel = $("#lesson-select");
  for (const l of app.lessons) lessonSel.append(new Option(`${l.number}. ${l.title}`, l.id));
  lessonSel.hidden = app.lessons.length === 0;
  app.scene = normalizeScene(fromHash(location.hash, app.catalog), app.catalog);
  const lessons = ctx.lessons = new LessonMode({
    panel: $("#lesson-panel"), side: $("#lesson-views"), catalog: app.catalog,
    hooks: {
      loadScene: ctx.loadLessonScene,
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
      onLabels: () => ctx.scheduleRender(),
      toast,
    },
  });
  ctx.wireStaticControls();
  // Present mode's Next/Back (teach.js): the open lesson's next or previous step; false past either end.
  app.lessonStep = (delta) => {
    const n = lessons.active ? lessons.n + delta : 0;
    if (n < 1 || n > lessons.lesson.steps.length) return false;
    lessons.go(n);
    return true;
  };
  initTeach({ app, toast, download });
  // A teacher's short link (#lesson=id&step=n) opens the step's own scene.
  ctx.applyHash(location.hash);
  document.body.dataset.ready = "true";
}

start().catch((e) => {
  console.error(e);
  toast(`Loss Lab could not start: ${e.message}`);
});

// For tests and the curious: the live state, read-only by convention; redraw() draws it again
// from memory (benchmarks compare that with a redraw that waits for the server).
app.redraw = ctx.redraw;
app.tune = tunePanel;
window.lossLab = app;
