// The contour's live layer: trajectories, ghosts, current points, divergence marks and arrows as
// one small SVG laid over Plotly's plot area, redrawn synchronously in a few milliseconds.
//
// A Plotly redraw of the contour costs tens of milliseconds (more with every trace), so a slider
// drag or Play that redraws Plotly gets a few pictures a second. Here a new picture is a handful
// of `d` attributes. Plotly still holds the same runs as traces (for hover, the legend and the PNG
// export), updated when the page is idle; in the page those traces are hidden (their uid starts
// with "losslab-"), so what one sees of the runs is always this layer.

import { exitPoint } from "./clip.js";
import { decimate, divergenceMarks, pathData, pixelMap, prefix } from "./decimate.js";

const NS = "http://www.w3.org/2000/svg";
export const HIDDEN_UID = "losslab-";
/** Fewer points than this drawn on a path: each is shown as a dot, as Plotly's "lines+markers". */
export const DOTS_BELOW = 150;

let styled = false;
function installStyle() {
  if (styled) return;
  styled = true;
  const style = document.createElement("style");
  // Plotly names each trace's group "trace scatter trace<uid>": the ones this layer draws are hidden.
  style.textContent = `.losslab-has-paths .scatterlayer .trace[class*="trace${HIDDEN_UID}"] { display: none; }
.losslab-paths { position: absolute; left: 0; top: 0; pointer-events: none; overflow: hidden; will-change: transform; }`;
  document.head.append(style);
}

let uid = 0;

export class PathLayer {
  /** `el`: the Plotly plot (a div Plotly has drawn into at least once before draw() shows anything). */
  constructor(el) {
    installStyle();
    this.el = el;
    this.el.classList.add("losslab-has-paths");
    this.el.losslabPaths = this; // for tests: what is drawn
    this.memo = new WeakMap();
    this.last = null;
    this.drawn = [];
    this.id = `losslab-clip-${uid++}`;
    this.svg = document.createElementNS(NS, "svg");
    this.svg.setAttribute("class", "losslab-paths");
    this.svg.setAttribute("aria-hidden", "true");
    this.svg.innerHTML = `<defs><clipPath id="${this.id}"><rect/></clipPath></defs>` +
      `<g clip-path="url(#${this.id})"><g class="ghosts"></g><g class="runs"></g><g class="dots"></g>` +
      `<g class="ends"></g><g class="marks"></g><g class="labels"></g><g class="arrows"></g></g>`;
    this.clipRect = this.svg.querySelector("rect");
    this.root = this.svg.querySelector("g");
    this.groups = Object.fromEntries(["ghosts", "runs", "dots", "ends", "marks", "labels", "arrows"].map((k) => [k, this.svg.querySelector(`g.${k}`)]));
  }

  /** Plotly's axes box now: the pixel map, its offset in the plot div, the plot's size; null before the first draw. */
  box() {
    const fl = this.el._fullLayout;
    const xa = fl?.xaxis, ya = fl?.yaxis;
    if (!xa || !ya || !xa._length || !ya._length || !xa.range || !ya.range) return null;
    return { map: pixelMap(xa.range.map(Number), ya.range.map(Number), xa._length, ya._length), left: xa._offset, top: ya._offset,
      width: fl.width, height: fl.height, key: `${xa.range}|${ya.range}|${xa._length}|${ya._length}` };
  }

  /** Keep the layer just above Plotly's plot (under its legend, colour bar and hover labels). */
  mount() {
    const paper = this.el.querySelector(".svg-container > .main-svg");
    if (!paper) return false;
    if (this.svg.previousSibling !== paper) paper.after(this.svg);
    return true;
  }

  /**
   * Draw `runs` ([{ run, color, upto }] with `run` a RunStore run), `ghosts` ([{ x, y, color }])
   * and `arrows` ([{ from, to, color, head }]) in data coordinates; `view` [x0, x1, y0, y1] is where
   * divergence is marked. Returns the time it took, in ms, or null before Plotly's first draw.
   */
  draw({ runs = [], ghosts = [], arrows = [], view = null } = {}) {
    this.last = { runs, ghosts, arrows, view };
    const t0 = performance.now();
    const box = this.box();
    if (!box || !this.mount()) return null; // Plotly has not drawn the axes yet
    // The same runs (no new points, same status and cursor), ghosts, arrows and axes: the layer already
    // shows this picture (a run request just sent, a theory update), so nothing is touched.
    const key = sceneKey(runs, ghosts, arrows, view, box);
    this.unchanged = this.drawnKey !== undefined && sameKey(key, this.drawnKey);
    if (this.unchanged) return performance.now() - t0;
    this.drawnKey = key;
    if (box.key !== this.labelKey) this.labelW = this.labelKey = undefined; // measured again at a new size
    const { map } = box;
    this.svg.setAttribute("width", box.width);
    this.svg.setAttribute("height", box.height);
    this.root.setAttribute("transform", `translate(${box.left},${box.top})`);
    this.root.setAttribute("clip-path", `url(#${this.id})`);
    this.clipRect.setAttribute("width", map.width);
    this.clipRect.setAttribute("height", map.height);

    this.sync(this.groups.ghosts, ghosts.length, "path", (p, i) => {
      const g = ghosts[i];
      const idx = g.x.map((_, k) => k);
      set(p, { class: "ghost", d: pathData(g.x, g.y, idx, map), stroke: g.color, "stroke-opacity": 0.35, "stroke-width": 2,
        "stroke-dasharray": "2 4", fill: "none", "stroke-linecap": "round" });
    });

    // A diverged run is drawn until it leaves the view (the plot area clips its last segment there)
    // and marked where it crosses the edge, or at its last point if it never leaves.
    this.drawn = runs.map(({ run, color, upto = Infinity }) => {
      const full = this.decimated(run, map, box.key, view);
      const m = full.marks[0], exits = m !== undefined && m + 1 < run.xs.length;
      const end = Math.min(upto, run.xs.length - 1, exits ? m + 1 : Infinity);
      const idx = prefix(full.idx, end);
      const marks = m === undefined || end < (exits ? m + 1 : m) ? []
        : [exits ? exitPoint([run.xs[m], run.ys[m]], [run.xs[m + 1], run.ys[m + 1]], view) : [run.xs[m], run.ys[m]]];
      return { idx, color, marks, exited: exits && marks.length > 0, run };
    });
    this.sync(this.groups.runs, runs.length, "path", (p, i) => {
      const { idx, color, run } = this.drawn[i];
      set(p, { class: "run", "data-run": i, d: pathData(run.xs, run.ys, idx, map), stroke: color, "stroke-width": 2.5, fill: "none",
        "stroke-linejoin": "round", "stroke-linecap": "round" });
    });
    this.sync(this.groups.dots, runs.length, "path", (p, i) => {
      const { idx, color, run } = this.drawn[i];
      let d = "";
      if (idx.length < DOTS_BELOW) for (const k of idx) d += dot(map.px(run.xs[k]), map.py(run.ys[k]), 2);
      set(p, { d, fill: color });
    });
    this.sync(this.groups.ends, runs.length, "circle", (c, i) => {
      const { idx, color, run, exited } = this.drawn[i];
      const k = exited ? undefined : idx[idx.length - 1]; // a run that left the view ends at its mark
      const x = k === undefined ? NaN : map.px(run.xs[k]), y = k === undefined ? NaN : map.py(run.ys[k]);
      const ok = Number.isFinite(x) && Number.isFinite(y) && Math.abs(x) < 1e5 && Math.abs(y) < 1e5;
      set(c, { class: "end", cx: ok ? r1(x) : -99, cy: ok ? r1(y) : -99, r: 5.5, fill: color, stroke: "white", "stroke-width": 2,
        visibility: ok ? "visible" : "hidden" });
    });
    // A mark on the edge (where its run leaves the view) is moved in by its own size: wholly on the plot.
    const s = 6, inside = (v, n) => (n > 2 * s + 4 ? Math.min(n - s - 2, Math.max(s + 2, v)) : v);
    const marks = this.drawn.flatMap(({ marks: m, color }) => m.map(([x, y]) => ({ x: inside(map.px(x), map.width), y: inside(map.py(y), map.height), color })));
    this.sync(this.groups.marks, marks.length, "path", (p, i) => {
      const { x, y, color } = marks[i];
      set(p, { class: "divergence", d: `M${r1(x - s)} ${r1(y - s)}L${r1(x + s)} ${r1(y + s)}M${r1(x - s)} ${r1(y + s)}L${r1(x + s)} ${r1(y - s)}`,
        stroke: color, "stroke-width": 3, "paint-order": "stroke", fill: "none", "stroke-linecap": "round" });
    });
    // Each mark's label lies wholly inside the plot area (it is clipped there), above its mark or
    // below it at the top edge; a label that would overlap one already placed is left out (both say
    // "diverged", and each run keeps its own coloured mark).
    const placed = [], boxKey = box.key;
    this.sync(this.groups.labels, marks.length, "text", (t, i) => {
      set(t, { "text-anchor": "middle", fill: "white", "font-size": LABEL_SIZE, "font-family": "Inter, system-ui, sans-serif",
        stroke: "rgba(0,0,0,0.45)", "stroke-width": 2.5, "paint-order": "stroke" });
      if (t.textContent !== "diverged") t.textContent = "diverged";
      const box = labelBox(marks[i], this.labelWidth(t, boxKey), map);
      const free = box && !placed.some((b) => b.left < box.right && box.left < b.right && b.top < box.bottom && box.top < b.bottom);
      if (free) placed.push(box);
      set(t, { x: free ? r1(box.x) : -999, y: free ? r1(box.y) : -999, visibility: free ? "visible" : "hidden" });
    });
    this.sync(this.groups.arrows, arrows.length, "path", (p, i) => {
      const a = arrows[i];
      set(p, { class: "arrow", d: arrowPath(map.px(a.from[0]), map.py(a.from[1]), map.px(a.to[0]), map.py(a.to[1]), a.head !== 6),
        stroke: a.color, "stroke-width": 2, fill: a.head !== 6 ? a.color : "white", "stroke-linejoin": "round",
        "data-from": a.from.join(","), "data-to": a.to.join(",") });
    });
    return performance.now() - t0;
  }

  /**
   * A label's rendered width: measured once per plot size (its text and type never change; measuring
   * makes the browser lay the page out at once, which at every frame of a drag cost more than the
   * rest of the drawing), or estimated while the plot is hidden.
   */
  labelWidth(t, key) {
    if (this.labelW !== undefined) return this.labelW;
    let w = 0;
    try {
      w = t.getComputedTextLength();
    } catch { /* not rendered */ }
    if (w > 0) {
      this.labelW = w;
      this.labelKey = key;
      return w;
    }
    return 0.6 * LABEL_SIZE * t.textContent.length;
  }

  /** Draw the last scene again (the axes moved: a resize, a zoom, Plotly's own redraw). */
  redraw() {
    if (this.last) this.draw(this.last);
  }

  /** The run's decimation for this pixel map, remembered while the run and the axes stay the same. */
  decimated(run, map, key, view) {
    const n = run.xs.length;
    let m = this.memo.get(run);
    if (!m || m.n !== n || m.key !== key || m.status !== run.status) {
      const marks = view ? divergenceMarks(run.xs, run.ys, run.status, view) : [];
      // The step after a mark too, so the path leaves the view in its true direction.
      const keep = marks.flatMap((k) => [k, k + 1]);
      m = { n, key, status: run.status, marks, idx: decimate(run.xs, run.ys, map, { keep }) };
      this.memo.set(run, m);
    }
    return m;
  }

  /** `count` children of `group` of element `tag`, each updated by `update(node, i)`. */
  sync(group, count, tag, update) {
    while (group.childNodes.length > count) group.lastChild.remove();
    while (group.childNodes.length < count) group.append(document.createElementNS(NS, tag));
    for (let i = 0; i < count; i++) update(group.childNodes[i], i);
  }
}

const r1 = (v) => Math.round(v * 10) / 10;

/** The divergence label's type size, and the margin it keeps from the plot area's edges (px). */
const LABEL_SIZE = 11, LABEL_PAD = 3;

/**
 * What a drawing depends on, to tell whether the next one would draw the same picture: each run (the
 * object, its length, the chunks added to it, status, cursor and colour), the ghosts (replaced, never changed, when kept
 * again), the arrows, the view and Plotly's axes box.
 */
function sceneKey(runs, ghosts, arrows, view, box) {
  return {
    runs: runs.map(({ run, color, upto = Infinity }) => [run, run.xs.length, run.chunks, run.status, upto, color]),
    ghosts, arrows: JSON.stringify(arrows), view: String(view),
    box: `${box.key}|${box.left},${box.top},${box.width},${box.height}`,
  };
}

function sameKey(a, b) {
  return a.ghosts === b.ghosts && a.arrows === b.arrows && a.view === b.view && a.box === b.box &&
    a.runs.length === b.runs.length && a.runs.every((r, i) => r.every((v, k) => v === b.runs[i][k]));
}

/**
 * Where a mark's label goes: centred above the mark (below it when the mark is at the top edge),
 * moved in so that its box lies inside the plot area `map`. Returns its anchor (x, baseline y) and box.
 */
function labelBox(mark, width, map) {
  if (!Number.isFinite(mark.x) || !Number.isFinite(mark.y)) return null;
  const ascent = 0.8 * LABEL_SIZE, descent = 0.25 * LABEL_SIZE, gap = 9;
  const clamp = (v, lo, hi) => (lo > hi ? (lo + hi) / 2 : Math.min(hi, Math.max(lo, v)));
  const x = clamp(mark.x, LABEL_PAD + width / 2, map.width - LABEL_PAD - width / 2);
  let y = mark.y - gap - descent;
  if (y - ascent < LABEL_PAD) y = mark.y + gap + ascent;
  y = clamp(y, LABEL_PAD + ascent, map.height - LABEL_PAD - descent);
  return { x, y, left: x - width / 2, right: x + width / 2, top: y - ascent, bottom: y + descent };
}

function set(node, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    const s = String(v);
    if (node.getAttribute(k) !== s) node.setAttribute(k, s);
  }
}

function dot(x, y, r) {
  if (!(Number.isFinite(x) && Number.isFinite(y)) || Math.abs(x) > 1e5 || Math.abs(y) > 1e5) return "";
  return `M${r1(x - r)} ${r1(y)}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;
}

/** A line from (x0, y0) to (x1, y1) with an arrow head: filled (solid) or open. */
function arrowPath(x0, y0, x1, y1, solid) {
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (!(len > 0) || !Number.isFinite(len)) return "";
  const ux = (x1 - x0) / len, uy = (y1 - y0) / len, h = 9, w = 4.5;
  const bx = x1 - ux * h, by = y1 - uy * h;
  const head = `M${r1(x1)} ${r1(y1)}L${r1(bx - uy * w)} ${r1(by + ux * w)}L${r1(bx + uy * w)} ${r1(by - ux * w)}Z`;
  return `M${r1(x0)} ${r1(y0)}L${r1(solid ? bx : x1 - ux * 2)} ${r1(solid ? by : y1 - uy * 2)}${head}`;
}
