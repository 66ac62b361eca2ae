// What a trajectory looks like on screen: pixel decimation, divergence marks, SVG path data. No DOM here.
//
// A path of 20,000 steps mostly moves by less than a pixel per step; drawing those points changes
// nothing on screen but costs time. decimate() keeps the points a viewer can tell apart (at least
// `tol` pixels from the previous kept one), and always the first, the last and every marked one.

/**
 * Linear map from data to pixels of a plot area `width` × `height` showing [x0, x1] × [y0, y1]
 * (y grows upwards in data, downwards on screen).
 */
export function pixelMap([x0, x1], [y0, y1], width, height) {
  const ax = width / (x1 - x0), ay = -height / (y1 - y0);
  return { px: (x) => (x - x0) * ax, py: (y) => height + (y - y0) * ay, width, height };
}

/**
 * Indices to draw of a path (xs, ys) up to entry `last`, under the pixel map `map`: entry 0,
 * entry `last`, every index in `keep`, and every point at least `tol` pixels from the point kept
 * before it. A point that is not finite is kept (the path breaks there).
 */
export function decimate(xs, ys, map, { keep = [], tol = 1, last = xs.length - 1 } = {}) {
  last = Math.min(last, xs.length - 1);
  if (last < 0) return [];
  const must = new Set(keep);
  const out = [0];
  const tol2 = tol * tol;
  let kx = map.px(xs[0]), ky = map.py(ys[0]);
  for (let i = 1; i < last; i++) {
    const x = map.px(xs[i]), y = map.py(ys[i]);
    const dx = x - kx, dy = y - ky;
    if (dx * dx + dy * dy >= tol2 || must.has(i) || !(Number.isFinite(x) && Number.isFinite(y))) {
      out.push(i);
      kx = x;
      ky = y;
    }
  }
  if (last > 0) out.push(last);
  return out;
}

/**
 * Where a diverged run is marked: the last point inside the view before it first leaves it, or
 * its last point if it never leaves. Other runs have no mark. `view` is [x0, x1, y0, y1].
 */
export function divergenceMarks(xs, ys, status, [x0, x1, y0, y1]) {
  if (status !== "diverged" || !xs.length) return [];
  for (let i = 0; i < xs.length; i++) {
    const inside = xs[i] >= x0 && xs[i] <= x1 && ys[i] >= y0 && ys[i] <= y1;
    if (!inside) return [Math.max(0, i - 1)];
  }
  return [xs.length - 1];
}

/** The kept indices of a decimation that are ≤ upto, ending at upto itself (the animation's current point). */
export function prefix(idx, upto) {
  if (!idx.length || upto >= idx[idx.length - 1]) return idx;
  let lo = 0, hi = idx.length; // first position with idx[pos] > upto
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (idx[mid] <= upto) lo = mid + 1;
    else hi = mid;
  }
  const out = idx.slice(0, lo);
  if (out[out.length - 1] !== upto && upto >= 0) out.push(upto);
  return out;
}

/**
 * Clip the segment a–b to the box [lo, hi]² (Liang–Barsky): the part inside, or null.
 * Keeps SVG coordinates finite and small when a diverging path flies off to 1e30.
 */
export function clipSegment(ax, ay, bx, by, lo, hi) {
  let t0 = 0, t1 = 1;
  const dx = bx - ax, dy = by - ay;
  for (const [p, q] of [[-dx, ax - lo], [dx, hi - ax], [-dy, ay - lo], [dy, hi - ay]]) {
    if (p === 0) {
      if (q < 0) return null;
    } else {
      const r = q / p;
      if (p < 0) { if (r > t1) return null; if (r > t0) t0 = r; }
      else { if (r < t0) return null; if (r < t1) t1 = r; }
    }
  }
  return [ax + t0 * dx, ay + t0 * dy, ax + t1 * dx, ay + t1 * dy];
}

const r1 = (v) => Math.round(v * 10) / 10;

/**
 * SVG path data ("M x y L x y …") through the points `idx` of (xs, ys), in pixels, clipped to a
 * box a few plot sizes around the plot area. A single point is drawn as a zero-length segment.
 */
export function pathData(xs, ys, idx, map) {
  const pad = 4 * Math.max(map.width, map.height);
  const lo = -pad, hi = Math.max(map.width, map.height) + pad;
  let d = "", open = false, px = 0, py = 0, have = false;
  for (const i of idx) {
    const x = map.px(xs[i]), y = map.py(ys[i]);
    if (!(Number.isFinite(x) && Number.isFinite(y))) { have = false; open = false; continue; }
    if (!have) {
      px = x; py = y; have = true;
      if (x >= lo && x <= hi && y >= lo && y <= hi) { d += `M${r1(x)} ${r1(y)}`; open = true; }
      continue;
    }
    const seg = clipSegment(px, py, x, y, lo, hi);
    if (seg) {
      const startsInside = seg[0] === px && seg[1] === py;
      if (!open || !startsInside) d += `M${r1(seg[0])} ${r1(seg[1])}`;
      d += `L${r1(seg[2])} ${r1(seg[3])}`;
      open = seg[2] === x && seg[3] === y;
    } else {
      open = false;
    }
    px = x; py = y;
  }
  if (idx.length === 1 && d) d += `l0 0`;
  return d;
}
