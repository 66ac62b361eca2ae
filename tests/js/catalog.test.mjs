// Unit tests of the page's DOM-free modules: run with `node --test tests/js/` (tests/js/test_sliders.py does).
import test from "node:test";
import assert from "node:assert/strict";
import { applySurface, hasVelocity, runLabels, withBeta } from "../../static/js/catalog.js";
import { clipAtView, lossScale } from "../../static/js/charts/clip.js";
import { describeStatus } from "../../static/js/trajectories.js";

const catalog = {
  optimizers: {
    gd: { title: "Gradient descent", capabilities: { velocity: null, rate: "heavy_ball", beta: null },
      params: [{ name: "lr", symbol: "η" }, { name: "schedule" }] },
    momentum: { title: "Momentum", capabilities: { velocity: "momentum", rate: "heavy_ball", beta: "momentum" },
      params: [{ name: "lr", symbol: "η" }, { name: "momentum", symbol: "β" }] },
    sgd: { title: "SGD", capabilities: { velocity: "momentum", rate: "heavy_ball", beta: "momentum" },
      params: [{ name: "lr", symbol: "η" }, { name: "momentum", symbol: "β" }, { name: "batch_size", symbol: "b" }] },
    adam: { title: "Adam", capabilities: { velocity: "beta1", rate: null, beta: null } },
  },
  surfaces: {
    bowl: { step_sizes: { gd: 0.1, momentum: 0.05 }, default_start: [1, 2], default_steps: 50 },
    valley: { step_sizes: { gd: 0.001 }, default_start: [-1, 1], default_steps: 2000 },
  },
};

test("velocity is read from the catalog entry, with its parameter", () => {
  assert.equal(hasVelocity(catalog, "gd", { lr: 1 }), false);
  assert.equal(hasVelocity(catalog, "sgd", { momentum: 0 }), false);
  assert.equal(hasVelocity(catalog, "sgd", { momentum: 0.5 }), true);
  assert.equal(hasVelocity(catalog, "adam", { beta1: 0.9 }), true);
  assert.deepEqual(withBeta(catalog, [{ name: "gd", params: {} }, { name: "sgd", params: { momentum: 0.3 } }]).index, 1);
});

test("runs are labelled by what differs between them", () => {
  const labels = runLabels(catalog, [
    { name: "gd", params: { lr: 0.1, schedule: "constant" } },
    { name: "gd", params: { lr: 0.2, schedule: "constant" } },
    { name: "momentum", params: { lr: 0.1, momentum: 0.9 } },
  ]);
  assert.deepEqual(labels, ["1. Gradient descent (η=0.1)", "2. Gradient descent (η=0.2)", "3. Momentum"]);
  assert.deepEqual(runLabels(catalog, [{ name: "gd", params: { lr: 0.1, schedule: "constant" } },
    { name: "gd", params: { lr: 0.1, schedule: "inverse" } }]), ["1. Gradient descent (constant)", "2. Gradient descent (inverse)"]);
  // The symbols are the catalog's (one home: the engine's Param.symbol), as the lessons' labels write them.
  assert.deepEqual(runLabels(catalog, [{ name: "sgd", params: { lr: 0.1, momentum: 0.5, batch_size: 1 } },
    { name: "sgd", params: { lr: 0.1, momentum: 0.9, batch_size: 8 } }]), ["1. SGD (β=0.5, b=1)", "2. SGD (β=0.9, b=8)"]);
});

test("picking a surface applies its start, steps and step sizes, keeping two runs of one optimizer apart", () => {
  const scene = { surface: "bowl", surfaceParams: { a: 1 }, start: [0, 0], steps: 50, formula: "", view: null,
    optimizers: [{ name: "gd", params: { lr: 0.1 } }, { name: "gd", params: { lr: 0.2 } }, { name: "adam", params: { lr: 0.3 } }] };
  const s = applySurface(scene, catalog, "valley");
  assert.deepEqual(s.start, [-1, 1]);
  assert.equal(s.steps, 2000);
  assert.deepEqual(s.optimizers.map((o) => o.params.lr), [0.001, 0.002, 0.3]);
  assert.deepEqual(s.surfaceParams, {});
  assert.deepEqual(scene.optimizers[0].params.lr, 0.1); // the old scene is untouched
});

test("a diverged path is cut where it leaves the view, with the exit marked", () => {
  const c = clipAtView([0, 0.5, 4, 40], [0, 0, 0, 0], [0, 1, 2, 3], [-1, 1, -1, 1]);
  assert.deepEqual(c.xs, [0, 0.5, 1]);
  assert.deepEqual(c.exit, { x: 1, y: 0, step: 2 });
  assert.equal(clipAtView([0, 0.5], [0, 0], [0, 1], [-1, 1, -1, 1]).exit, null);
});

test("the loss scale stays logarithmic: zeros at the floor, negative surfaces shifted, divergence ignored", () => {
  const s = lossScale([{ ys: [1, 1e-3, 0], status: "converged" }, { ys: [1, 1e8, 1e30], status: "diverged" }], 0);
  assert.equal(s.ref, 0);
  assert.ok(s.map(0) > 0);
  assert.ok(s.range[1] < 1, "the diverged run does not set the top");
  const neg = lossScale([{ ys: [2, -0.5], status: "max_steps" }], -0.5);
  assert.equal(neg.ref, -0.5);
  assert.equal(neg.label, "loss − lowest loss");
  assert.ok(neg.map(-0.5) > 0);
});

test("statuses say what happened and when", () => {
  assert.equal(describeStatus({ status: "converged", stepsTaken: 1 }), "converged at step 1");
  assert.equal(describeStatus({ status: "diverged", stepsTaken: 7 }), "diverged at step 7");
  assert.match(describeStatus({ status: "max_steps", stepsTaken: 100 }), /^still going/);
});
