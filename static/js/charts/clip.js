// Keeping plots readable when a run blows up: a diverged path is cut where it leaves the view
// (with a mark there), and the loss axis stays logarithmic and scaled to the runs that did not diverge.

/** Where the segment from inside point a to outside point b crosses the box [x0, x1, y0, y1]. */
export function exitPoint([ax, ay], [bx, by], [x0, x1, y0, y1]) {
  let t = 1;
  const dx = bx - ax, dy = by - ay;
  if (bx < x0) t = Math.min(t, (x0 - ax) / dx);
  if (bx > x1) t = Math.min(t, (x1 - ax) / dx);
  if (by < y0) t = Math.min(t, (y0 - ay) / dy);
  if (by > y1) t = Math.min(t, (y1 - ay) / dy);
  t = Math.max(0, t);
  return [ax + t * dx, ay + t * dy];
}

/**
 * A diverged path cut at its first exit from the view: `{ xs, ys, idx, exit }` where the last point
 * is the crossing with the view's edge and `exit = { x, y, step }` marks it (null when it never left).
 */
export function clipAtView(xs, ys, idx, view) {
  const [x0, x1, y0, y1] = view;
  const inside = (k) => xs[k] >= x0 && xs[k] <= x1 && ys[k] >= y0 && ys[k] <= y1;
  const k = xs.findIndex((_, j) => !inside(j));
  if (k < 0) return { xs, ys, idx, exit: null };
  if (k === 0) return { xs: [], ys: [], idx: [], exit: { x: xs[0], y: ys[0], step: idx[0] } };
  const [ex, ey] = exitPoint([xs[k - 1], ys[k - 1]], [xs[k], ys[k]], view);
  return {
    xs: [...xs.slice(0, k), ex], ys: [...ys.slice(0, k), ey], idx: [...idx.slice(0, k), idx[k]],
    exit: { x: ex, y: ey, step: idx[k] },
  };
}

/**
 * What the loss plot draws, on a log axis whatever the losses are: loss − ref, where ref is 0 when
 * no loss (and no value of the surface, `zmin`) is negative and the lowest of them otherwise; values
 * at or below the floor (e.g. exactly 0, reached by Newton in one step) are drawn at the floor.
 * `range` (log₁₀) is that of the runs that did not diverge, so one diverged run never flattens the others.
 */
export function lossScale(series, zmin) {
  const ok = series.filter((s) => s.status !== "diverged");
  const basis = ok.length ? ok : series;
  let low = Infinity;
  for (const s of basis) for (const v of s.ys) if (Number.isFinite(v) && v < low) low = v;
  const lowest = Math.min(low, Number.isFinite(zmin) ? zmin : Infinity);
  const ref = lowest < 0 ? lowest : 0;
  let hi = -Infinity, lo = Infinity;
  for (const s of basis) {
    for (const v of s.ys) {
      const d = v - ref;
      if (!Number.isFinite(d)) continue;
      if (d > hi) hi = d;
      if (d > 0 && d < lo) lo = d;
    }
  }
  if (!(hi > 0)) hi = 1;
  const floor = Math.max(hi * 1e-16, Number.isFinite(lo) ? Math.min(lo, hi) : hi * 1e-16, 1e-300);
  const map = (v) => (Number.isFinite(v) ? Math.max(v - ref, floor) : null);
  const range = [Math.log10(floor) - 0.3, Math.log10(hi) + 0.3];
  return { ref, floor, map, range, label: ref === 0 ? "loss" : "loss − lowest loss" };
}
