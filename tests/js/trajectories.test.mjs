// The page's run store, status words and measured rate (static/js/trajectories.js), against hand computations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RunStore, describeStatus, drawIndices, measuredRate, zTransform } from "../../static/js/trajectories.js";

test("chunks build each run in order, and a replayed chunk does not duplicate entries", () => {
  const store = new RunStore([{ name: "gd", params: { lr: 0.5 } }, { name: "newton", params: { lr: 1 } }]);
  store.addChunk({ run: 0, first: 0, points: [[1, -1]], losses: [2], grad_norms: [2.8] });
  store.addChunk({ run: 0, first: 1, points: [[0.5, -0.5], [0.25, -0.25]], losses: [0.5, 0.125], grad_norms: [1.4, 0.7] });
  store.addChunk({ run: 0, first: 1, points: [[0.5, -0.5], [0.25, -0.25]], losses: [0.5, 0.125], grad_norms: [1.4, 0.7] });
  store.addChunk({ run: 1, first: 0, points: [[1, -1], [0, 0]], losses: [2, 0], grad_norms: [2.8, 0] });
  assert.deepEqual(store.runs[0].xs, [1, 0.5, 0.25]);
  assert.equal(store.runs[0].stepsTaken, 2);
  assert.equal(store.maxSteps, 2);
  store.finish({ runs: [{ status: "max_steps", steps_taken: 2 }, { status: "converged", steps_taken: 1 }] });
  assert.equal(store.toCSV().split("\n")[1], "0,gd,0,1,-1,2,2.8");
  assert.equal(store.toCSV().trim().split("\n").length, 1 + 3 + 2);
  const exported = JSON.parse(store.toJSON({ surface: "quadratic" }));
  assert.deepEqual(exported.runs[1].points, [[1, -1], [0, 0]]);
  assert.equal(exported.runs[1].status, "converged");
});

test("statuses read as the runs table says them", () => {
  assert.equal(describeStatus({ status: "converged", stepsTaken: 1 }), "converged at step 1");
  assert.equal(describeStatus({ status: "diverged", stepsTaken: 0 }), "diverged at step 1");
  assert.equal(describeStatus({ status: "max_steps", stepsTaken: 50 }), "still going after 50 steps");
  assert.equal(describeStatus({ status: "running", stepsTaken: 7 }, true), "running… 7");
  assert.equal(describeStatus({ status: "running", stepsTaken: 7 }, false), "waiting");
});

test("the measured rate of a run contracting by 0.9 a step is 0.9; too short a run has none", () => {
  const xs = [], ys = [];
  for (let k = 0; k < 60; k++) { xs.push(2 * 0.9 ** k); ys.push(-1 * 0.9 ** k); }
  assert.ok(Math.abs(measuredRate(xs, ys) - 0.9) < 1e-12);
  assert.equal(measuredRate([1, 0.5, 0.25], [0, 0, 0]), null);
  // Newton lands on the minimum in one step: no contraction to measure past the exact zero
  assert.equal(measuredRate([1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]), null);
});

test("thinning keeps the first and last points and at most the cap; wide ranges are drawn on log10", () => {
  const idx = drawIndices(10_001, 10_000, 1500);
  assert.equal(idx[0], 0);
  assert.equal(idx[idx.length - 1], 10_000);
  assert.ok(idx.length <= 1500);
  assert.deepEqual(Array.from(drawIndices(4)), [0, 1, 2, 3]);
  const t = zTransform(0, 1000);
  assert.equal(t.log, true);
  assert.ok(Math.abs(t.f(100) - Math.log10(100 + 1e-3)) < 1e-12); // log10(z − zmin + ε), ε a millionth of the range
  assert.equal(zTransform(1, 2).log, false);
});
