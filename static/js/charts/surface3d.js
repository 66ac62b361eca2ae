// The loss surface in 3D with the trajectories lying on it.

import { Decimator } from "../trajectories.js";
import { FONT, COLORSCALE, plotConfig, draw } from "./common.js";

/**
 * Plotly's 3D trace types (surface, scatter3d; scripts/build-plotly) are a module of their own: the page
 * loads them once its first runs are drawn, so they never delay the contour.
 */
const THREE_D = "/vendor/plotly/plotly-3d.js";
/** Asked to draw before any run is there: load the 3D code anyway after this long. */
const LOAD_ANYWAY_MS = 1500;

export class SurfaceChart {
  constructor(el) {
    this.el = el;
    this.grid = null;
    this.decimator = new Decimator(600);
  }

  setSurface(grid, info, transform) {
    // A coarser mesh is plenty in 3D, keeps rotation smooth and redraws in half the time
    // (every trajectory update re-uploads the mesh: 40 × 40 costs 15 ms, 60 × 60 36 ms in headless Chromium).
    const step = Math.max(1, Math.floor(grid.x.length / 40));
    const keep = (a) => a.filter((_, i) => i % step === 0);
    this.grid = { x: keep(grid.x), y: keep(grid.y), z: keep(grid.z).map((row) => keep(row).map(transform.f)) };
    this.info = info;
    this.transform = transform;
    let lo = Infinity, hi = -Infinity;
    for (const row of this.grid.z) for (const v of row) if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    this.zRange = lo <= hi ? [lo, hi] : [0, 1];
  }

  /** Load the 3D trace types (once); resolves when Plotly can draw them. */
  load() {
    this.loading ??= import(THREE_D).then(() => (this.ready = true));
    return this.loading;
  }

  /**
   * Draw the scene; until the 3D code is loaded, remember it and draw the latest scene asked for once it is
   * (the returned promise then resolves after that drawing). `after`: a promise to wait for before loading.
   */
  render(args) {
    if (!this.grid) return;
    if (this.ready) return this.drawNow(args);
    this.wanted = args;
    if (!this.loading && !args.store?.runs.some((r) => r.xs.length)) {
      this.fallback ??= setTimeout(() => this.load().then(() => this.wanted && this.render(this.wanted)), LOAD_ANYWAY_MS);
      return null;
    }
    // The first runs' 2D plots are drawn first (`after`: their drawing), then the 3D code is fetched.
    this.waiting ??= Promise.resolve(args.after).then(() => this.load()).then(() => {
      this.waiting = null;
      const latest = this.wanted;
      this.wanted = null;
      return latest && this.grid ? this.drawNow(latest) : null;
    }, (e) => {
      this.waiting = null;
      console.warn("3D view", e); // the 3D view stays empty (for now); every other plot works
      return null;
    });
    return this.waiting;
  }

  drawNow({ store, colors, names, upto }) {
    const f = this.transform.f;
    const traces = [{
      type: "surface", x: this.grid.x, y: this.grid.y, z: this.grid.z, colorscale: COLORSCALE, showscale: false,
      opacity: 0.92, hoverinfo: "skip", contours: { z: { show: false } },
    }];
    const [x0, x1, y0, y1] = this.info.view;
    // Only what lies over the drawn surface: a run that leaves the view (a diverged one, say) is
    // cut there, so it never stretches the axes and flattens the surface into a sheet.
    const inside = (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
    let [zlo, zhi] = this.zRange;
    store?.runs.forEach((r, i) => {
      const d = this.decimator.of(r, upto);
      const xs = d.pick(r.xs), ys = d.pick(r.ys), zs = d.pick(r.losses, f);
      const keep = xs.map((x, k) => inside(x, ys[k]) && Number.isFinite(zs[k]));
      const z = zs.map((v, k) => (keep[k] ? v : null));
      for (const v of z) if (v !== null) { zlo = Math.min(zlo, v); zhi = Math.max(zhi, v); }
      traces.push({
        type: "scatter3d", mode: "lines", x: xs.map((v, k) => (keep[k] ? v : null)), y: ys.map((v, k) => (keep[k] ? v : null)), z,
        connectgaps: false, name: names[i], line: { color: colors[i], width: 5 }, hoverinfo: "skip",
      });
    });
    const pad = 0.03 * (zhi - zlo || 1);
    // Few ticks in small type: the box is small, and Plotly's own choice crowds them into each other.
    const axis = (title, extra) => ({ title: { text: title, font: { size: 11 } }, nticks: 6, tickfont: { size: 10 }, ...extra });
    const layout = {
      font: FONT, margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false, uirevision: this.info.name,
      scene: {
        xaxis: axis(this.info.axes?.[0] || "x", { range: [x0, x1] }),
        yaxis: axis(this.info.axes?.[1] || "y", { range: [y0, y1] }),
        zaxis: axis(this.transform.label, { range: [zlo - pad, zhi + pad], nticks: 4 }),
        aspectmode: "manual", aspectratio: { x: 1, y: 1, z: 0.6 },
        camera: { eye: { x: 1.5, y: -1.5, z: 1.1 } },
      },
      paper_bgcolor: "rgba(0,0,0,0)",
    };
    return draw(this.el, traces, layout, plotConfig("losslab-surface", { three: true }));
  }
}
