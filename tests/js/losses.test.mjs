// The loss plot's log-axis ticks: `node --test tests/js/`.
import test from "node:test";
import assert from "node:assert/strict";
import { logTicks } from "../../static/js/charts/losses.js";

test("under three decades the loss axis is labelled 1, 2, 5 of each decade, written out", () => {
  assert.deepEqual(logTicks([-0.6, 0.5]).ticktext, ["0.5", "1", "2"]);
  assert.deepEqual(logTicks([-5.3, -3.5]).ticktext, ["10⁻⁵", "2×10⁻⁵", "5×10⁻⁵", "10⁻⁴", "2×10⁻⁴"]);
  const t = logTicks([-1.2, 0.9]);
  assert.deepEqual(t.tickvals, [0.1, 0.2, 0.5, 1, 2, 5]);
  // At least one label however narrow the range (the plot pads it by 0.3 decades each side).
  for (let lo = -3; lo < 3; lo += 0.05) assert.ok(logTicks([lo, lo + 0.6]).tickvals.length >= 1, lo);
});

test("wider ranges keep powers of ten, at most six labels", () => {
  assert.deepEqual(logTicks([-9, 1]), { dtick: 2 });
  assert.deepEqual(logTicks([-4, 0.5]), { dtick: 1 });
});
