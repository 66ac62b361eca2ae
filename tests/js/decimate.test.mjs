// node --test: the contour's pixel decimation, divergence marks and SVG path data (static/js/charts/decimate.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { clipSegment, decimate, divergenceMarks, pathData, pixelMap, prefix } from "../../static/js/charts/decimate.js";

// A 400 × 400 px plot of [-2, 2]²: 100 px per unit.
const map = pixelMap([-2, 2], [-2, 2], 400, 400);

/** A spiral into the origin: n points, ever closer together near the end. */
function spiral(n) {
  const xs = [], ys = [];
  for (let k = 0; k < n; k++) {
    const r = 1.8 * 0.999 ** k, a = 0.05 * k;
    xs.push(r * Math.cos(a));
    ys.push(r * Math.sin(a));
  }
  return { xs, ys };
}

test("pixelMap puts the view's corners on the plot's corners, y upwards", () => {
  assert.equal(map.px(-2), 0);
  assert.equal(map.px(2), 400);
  assert.equal(map.py(-2), 400);
  assert.equal(map.py(2), 0);
  assert.equal(map.py(0), 200);
});

test("decimate keeps the first and last points and drops points closer than a pixel", () => {
  const { xs, ys } = spiral(20001);
  const idx = decimate(xs, ys, map);
  assert.equal(idx[0], 0);
  assert.equal(idx[idx.length - 1], 20000);
  assert.ok(idx.length < 3000, `${idx.length} points kept of 20001`);
  for (let j = 1; j < idx.length - 1; j++) {
    const a = idx[j - 1], b = idx[j];
    const d = Math.hypot(map.px(xs[b]) - map.px(xs[a]), map.py(ys[b]) - map.py(ys[a]));
    assert.ok(d >= 1, `kept points ${a} and ${b} are ${d} px apart`);
  }
  // Every dropped point lies within a pixel of the point kept before it.
  let j = 0;
  for (let k = 1; k < 20000; k++) {
    if (idx[j + 1] === k) { j++; continue; }
    const a = idx[j];
    assert.ok(Math.hypot(map.px(xs[k]) - map.px(xs[a]), map.py(ys[k]) - map.py(ys[a])) < 1);
  }
});

test("decimate keeps every index it is told to keep, and every non-finite point", () => {
  const xs = Array.from({ length: 1000 }, (_, k) => k * 1e-6), ys = xs.map(() => 0);
  xs[500] = NaN;
  const keep = [3, 250, 777];
  const idx = decimate(xs, ys, map, { keep });
  for (const k of [0, 3, 250, 500, 777, 999]) assert.ok(idx.includes(k), `index ${k} kept`);
  assert.equal(idx.length, 6); // all other points are within a pixel of the start
  assert.deepEqual(decimate([1], [1], map), [0]);
  assert.deepEqual(decimate([], [], map), []);
});

test("a diverging run is marked where it leaves the view, and decimation keeps the mark and the step after it", () => {
  // Gradient descent at η = 1.2 on f = x²: x ← (1 − 2η) x = −1.4 x, leaving [-2, 2] at step 3.
  const xs = [0.9], ys = [0.5];
  for (let k = 0; k < 200; k++) { xs.push(-1.4 * xs[k]); ys.push(ys[k]); }
  const marks = divergenceMarks(xs, ys, "diverged", [-2, 2, -2, 2]);
  assert.deepEqual(marks, [2]); // |x| = 0.9, 1.26, 1.764 inside; 2.47 outside
  const idx = decimate(xs, ys, map, { keep: marks.flatMap((k) => [k, k + 1]) });
  assert.ok(idx.includes(2) && idx.includes(3) && idx[idx.length - 1] === 200);
  assert.deepEqual(divergenceMarks(xs, ys, "max_steps", [-2, 2, -2, 2]), []);
  assert.deepEqual(divergenceMarks([0, 0.1], [0, 0.1], "diverged", [-2, 2, -2, 2]), [1]); // never left: its last point
});

test("prefix ends at the animation's current point", () => {
  const idx = [0, 4, 9, 15, 20];
  assert.deepEqual(prefix(idx, 9), [0, 4, 9]);
  assert.deepEqual(prefix(idx, 11), [0, 4, 9, 11]);
  assert.deepEqual(prefix(idx, 0), [0]);
  assert.equal(prefix(idx, Infinity), idx);
});

test("pathData draws through the kept points in pixels, clipping what flies off to 1e30", () => {
  assert.equal(pathData([-2, 0, 2], [-2, 0, 2], [0, 1, 2], map), "M0 400L200 200L400 0");
  const d = pathData([0, 1e30, 1e31], [0, 0, 0], [0, 1, 2], map);
  assert.match(d, /^M200 200L\d+(\.\d)? 200$/); // one segment, cut at the clip box; the rest is off screen
  assert.ok(!/e\+|Infinity|NaN/.test(d));
  assert.equal(pathData([0, NaN, 1], [0, 0, 0], [0, 1, 2], map), "M200 200M300 200");
  assert.equal(pathData([0], [0], [0], map), "M200 200l0 0");
});

test("clipSegment keeps the part of a segment inside the box", () => {
  assert.deepEqual(clipSegment(0, 0, 10, 0, -5, 5), [0, 0, 5, 0]);
  assert.equal(clipSegment(10, 10, 20, 20, -5, 5), null);
  assert.deepEqual(clipSegment(-10, 0, 10, 0, -5, 5), [-5, 0, 5, 0]);
});
