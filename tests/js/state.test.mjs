// The scene object and its URL hash (static/js/state.js): run by `node --test tests/js/` (tests/js/test_sliders.py).
import test from "node:test";
import assert from "node:assert/strict";
import { clampStart, coerceParam, fromHash, normalizeScene, runRequest, toHash, validView } from "../../static/js/state.js";

const lr = { name: "lr", kind: "float", default: 0.1, min: 0, max: 10, min_exclusive: true };
const momentum = { name: "momentum", kind: "float", default: 0.9, min: 0, max: 0.999 };
const schedule = { name: "schedule", kind: "choice", default: "constant", choices: ["constant", "inverse"] };
const batch = { name: "batch_size", kind: "int", default: 1, min: 1, max: 120 };
const catalog = {
  scene: {
    defaults: { surface: "quadratic", surfaceParams: { lambda_1: 1 }, optimizers: [{ name: "gd", params: { lr: 0.1 } }],
      start: [-2, -0.5], steps: 100, seed: 0, tol: 1e-4, lesson: "", formula: "", view: null },
    limits: { optimizers: 3, steps: [1, 20000], seed: [0, 2 ** 31 - 1], tol: [0, 1e6], formula: 500 },
  },
  surfaces: {
    quadratic: { params: [{ name: "lambda_1", kind: "float", default: 1, min: 0.01, max: 100 }], view: [-3, 3, -3, 3] },
    custom: { params: [{ name: "formula", kind: "text", default: "x**2" }], view: [-3, 3, -3, 3],
      view_limits: { max: 1000, min_span: 0.001 } },
  },
  optimizers: { gd: { params: [lr, schedule] }, momentum: { params: [lr, momentum] }, sgd: { params: [lr, batch] } },
};

test("a parameter is coerced into its range and kind", () => {
  assert.equal(coerceParam(lr, 50), 10);
  assert.ok(coerceParam(lr, 0) > 0); // the open end: never exactly 0
  assert.equal(coerceParam(lr, "oops"), 0.1);
  assert.equal(coerceParam(batch, 2.6), 3);
  assert.equal(coerceParam(schedule, "weird"), "constant");
});

test("a scene survives its own hash, numbers and names alike", () => {
  const scene = normalizeScene({
    surface: "quadratic", surfaceParams: { lambda_1: 2.5 },
    optimizers: [{ name: "gd", params: { lr: 0.15, schedule: "inverse" } }, { name: "momentum", params: { lr: 0.04, momentum: 0.99 } }],
    start: [-1.5, 2], steps: 300, seed: 7, tol: 1e-6, lesson: "momentum",
  }, catalog);
  const hash = toHash(scene);
  assert.match(hash, /^#s=quadratic:lambda_1=2.5&o=gd:lr=0.15,schedule=inverse\|momentum:lr=0.04,momentum=0.99&/);
  assert.deepEqual(normalizeScene(fromHash(hash, catalog), catalog), scene);
});

test("a typed formula and its view ride in the hash, encoded", () => {
  const scene = normalizeScene({ ...catalog.scene.defaults, surface: "custom", formula: "x^2 + 3*y**2 & z", view: [-1, 1, -2, 2] }, catalog);
  const back = normalizeScene(fromHash(toHash(scene), catalog), catalog);
  assert.equal(back.formula, "x^2 + 3*y**2 & z");
  assert.deepEqual(back.view, [-1, 1, -2, 2]);
  // too long, or blank: the catalog's default formula
  const long = normalizeScene({ ...scene, formula: "x".repeat(501) }, catalog);
  assert.equal(long.formula, "x**2");
});

test("a hand-edited hash is made valid: unknown names dropped, numbers clamped, at most the limit of runs", () => {
  const scene = normalizeScene(fromHash("#s=nowhere:a=1&o=gd:lr=99|bogus:lr=1|momentum:momentum=5|sgd:batch_size=0|gd:lr=1&steps=999999&seed=-4", catalog), catalog);
  assert.equal(scene.surface, "quadratic");
  assert.deepEqual(scene.optimizers.map((o) => o.name), ["gd", "momentum", "sgd"]);
  assert.equal(scene.optimizers[0].params.lr, 10);
  assert.equal(scene.optimizers[1].params.momentum, 0.999);
  assert.equal(scene.optimizers[2].params.batch_size, 1);
  assert.equal(scene.steps, 20000);
  assert.equal(scene.seed, 0);
});

test("an empty hash is the default scene, and the run request carries what the server needs", () => {
  const scene = normalizeScene(fromHash("", catalog), catalog);
  assert.deepEqual(runRequest(scene), { surface: { name: "quadratic", params: { lambda_1: 1 } },
    optimizers: [{ name: "gd", params: { lr: 0.1, schedule: "constant" } }], start: [-2, -0.5], steps: 100, tol: 1e-4, seed: 0 });
});

test("views and starts are kept where the server accepts them", () => {
  assert.equal(validView([-1, 1, -1, 1]), true);
  assert.equal(validView([1, -1, -1, 1]), false);
  assert.equal(validView([-1, 1, -1, 1 + 1e-5 - 2]), false);
  assert.equal(validView([-1e4, 1, -1, 1]), false);
  assert.deepEqual(clampStart([100, -100], [-1, 1, -2, 2]), [3, -6]); // the view enlarged by its size
});
