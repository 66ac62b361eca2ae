// Contour of the loss with trajectories, minima, saddles and the start point; click or drag to move the start.

import { Decimator, drawIndices, pick } from "../trajectories.js";
import { FONT, COLORSCALE, HOVERLABEL, hexToRgba, plotConfig, draw } from "./common.js";
import { clipAtView } from "./clip.js";
import { HIDDEN_UID, PathLayer } from "./paths.js";

export class ContourChart {
  /** `onRedraw` is called when the chart wants to be drawn again (its background is ready). */
  constructor(el, { onPickStart, onRedraw }) {
    this.el = el;
    this.onPickStart = onPickStart;
    this.onRedraw = onRedraw;
    this.grid = null;
    this.ghosts = [];
    this.background = null; // { source, width, height }: the filled contour as an image
    this.backgroundToken = 0;
    this.decimator = new Decimator();
    this.paths = new PathLayer(el); // draws what Plotly's hidden "losslab-" traces hold, at once
    this.plotted = null; // the last figure handed to Plotly (a lazy render leaves it for later)
    this.installPointer();
  }

  setSurface(grid, info, transform) {
    this.grid = grid;
    this.info = info;
    this.transform = transform;
    this.z = grid.z.map((row) => row.map(transform.f));
    let lo = Infinity, hi = -Infinity;
    for (const row of this.z) for (const v of row) if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    this.zRange = lo <= hi ? [lo, hi] : [0, 1];
    this.background = null;
    this.plotted = null; // a new contour: the next render draws Plotly too, lazy or not
    // The first draw shows the contour as a trace; the image is painted when the page is idle.
    const token = ++this.backgroundToken;
    const paint = () => token === this.backgroundToken && this.paintBackground();
    if (window.requestIdleCallback) requestIdleCallback(paint, { timeout: 1000 });
    else setTimeout(paint, 200);
  }

  /** The axes' names as the surface's catalog entry gives them (w1, w2 on a network's weights). */
  axisNames() {
    return [this.info?.axes?.[0] || "x", this.info?.axes?.[1] || "y"];
  }

  contourTrace() {
    const [ax, ay] = this.axisNames();
    return {
      type: "contour", x: this.grid.x, y: this.grid.y, z: this.z, colorscale: COLORSCALE, ncontours: 28,
      contours: { coloring: "heatmap", showlines: true }, line: { width: 0.5, color: "rgba(255,255,255,0.35)" },
      colorbar: { title: { text: this.transform.label, side: "right" }, thickness: 10, len: 0.9 },
      hovertemplate: `${ax}=%{x:.3f}<br>${ay}=%{y:.3f}<br>${this.transform.label} %{z:.3g}<extra></extra>`, name: "loss", showlegend: false, uid: "contour",
    };
  }

  /**
   * Draw the filled contour once, off screen, into an image that the plot shows beneath the
   * trajectories. Plotly redraws every trace of a plot whenever any changes, and the 120 × 120
   * contour costs several times more than all the trajectories: as an image it costs nothing to redraw.
   */
  async paintBackground() {
    const token = ++this.backgroundToken;
    const size = this.el._fullLayout?._size;
    const ratio = Math.min(2, window.devicePixelRatio || 1);
    const width = Math.round(Math.min(1600, Math.max(400, (size?.w || 450) * ratio)));
    const height = Math.round(Math.min(1600, Math.max(400, (size?.h || 450) * ratio)));
    const [x0, x1, y0, y1] = this.info.view;
    const off = document.createElement("div");
    off.style.cssText = `position:fixed;left:-10000px;top:0;width:${width}px;height:${height}px;visibility:hidden`;
    document.body.append(off);
    try {
      await Plotly.newPlot(off, [{ ...this.contourTrace(), showscale: false, hoverinfo: "skip" }], {
        width, height, margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false,
        xaxis: { range: [x0, x1], visible: false }, yaxis: { range: [y0, y1], visible: false },
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      }, { staticPlot: true });
      const source = await Plotly.toImage(off, { format: "png", width, height });
      if (token !== this.backgroundToken) return;
      this.background = { source, width, height };
      this.onRedraw?.();
    } catch (e) {
      console.warn("contour background", e); // the plot keeps drawing the contour as a trace
    } finally {
      Plotly.purge(off);
      off.remove();
    }
  }

  /** Pixel position → data coordinates, or null outside the plot area. */
  toData(ev) {
    const layout = this.el._fullLayout;
    if (!layout || !layout.xaxis) return null;
    const rect = this.el.getBoundingClientRect();
    const xa = layout.xaxis, ya = layout.yaxis;
    const px = ev.clientX - rect.left - xa._offset;
    const py = ev.clientY - rect.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
    return [xa.p2d(px), ya.p2d(py)];
  }

  installPointer() {
    let dragging = false;
    const down = (ev) => {
      if (ev.button !== 0 || ev.target.closest(".modebar")) return;
      const p = this.toData(ev);
      if (!p) return;
      dragging = true;
      ev.preventDefault();
      ev.stopPropagation();
      this.onPickStart(p, false);
    };
    const move = (ev) => {
      if (!dragging) return;
      const p = this.toData(ev);
      if (p) this.onPickStart(p, true);
    };
    const up = () => {
      if (dragging) this.onPickStart(null, false, true);
      dragging = false;
    };
    this.el.addEventListener("pointerdown", down, true);
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  /** Keep the current trajectories as faint ghosts, to compare before and after a change. */
  keepGhosts(store, colors) {
    this.ghosts = store.runs.map((r, i) => {
      const idx = drawIndices(r.xs.length);
      return { x: pick(r.xs, idx), y: pick(r.ys, idx), color: colors[i] };
    });
  }

  clearGhosts() {
    this.ghosts = [];
  }

  /**
   * Draw the scene. The runs, ghosts and arrows reach the screen at once, through the path layer;
   * Plotly's figure (the same runs as hidden traces for hover, legend and PNG, the contour, the
   * markers) is redrawn too unless `lazy`, when it waits for the next render that is not.
   * Returns a promise of Plotly's drawing; `this.pathsDrawn` is when the path layer drew.
   */
  render({ store, colors, names, upto, start, arrows, overlay, lazy = false }) {
    if (!this.grid) return;
    const live = () => {
      const took = this.paths.draw({
        runs: (store?.runs || []).map((r, i) => ({ run: r, color: colors[i], upto })),
        ghosts: this.ghosts, arrows: arrows || [], view: this.info.view,
      });
      if (took !== null && !this.paths.unchanged) this.pathsDrawn = performance.now(); // (unchanged: drawn before)
    };
    this.live = live;
    if (lazy && this.plotted) {
      live();
      return Promise.resolve(this.el);
    }
    const [x0, x1, y0, y1] = this.info.view;
    const bg = this.background;
    // With its image ready the contour trace stays, hidden (its z is the loss drawn beneath),
    // and an empty trace carries the colour bar.
    const traces = [bg ? { ...this.contourTrace(), visible: false } : this.contourTrace()];
    if (bg) {
      traces.push({ type: "scatter", mode: "markers", x: [null], y: [null], hoverinfo: "skip", showlegend: false, name: "loss scale", uid: "loss-scale",
        marker: { color: this.zRange, cmin: this.zRange[0], cmax: this.zRange[1], colorscale: COLORSCALE, showscale: true,
          colorbar: this.contourTrace().colorbar } });
    }
    if (overlay) {
      // The local quadratic model: its centre is where a Newton step from the current point lands.
      traces.push({ type: "contour", x: overlay.x, y: overlay.y, z: overlay.z, showscale: false, ncontours: 16, name: "quadratic model", uid: "model",
        contours: { coloring: "none" }, line: { color: "rgba(255,255,255,0.9)", width: 1.2, dash: "dash" }, hoverinfo: "skip" });
    }
    for (const [k, g] of this.ghosts.entries()) {
      traces.push({ type: "scatter", mode: "lines", x: g.x, y: g.y, uid: `${HIDDEN_UID}ghost-${k}`, line: { color: hexToRgba(g.color, 0.35), width: 2, dash: "dot" },
        hoverinfo: "skip", showlegend: false });
    }
    const exits = [];
    const [ax, ay] = this.axisNames();
    store?.runs.forEach((r, i) => {
      const d = this.decimator.of(r, upto);
      // A diverged run is drawn up to where it leaves the view, and marked there.
      const c = r.status === "diverged" ? clipAtView(d.pick(r.xs), d.pick(r.ys), d.idx, this.info.view)
        : { xs: d.pick(r.xs), ys: d.pick(r.ys), idx: d.idx, exit: null };
      if (c.exit) exits.push({ ...c.exit, color: colors[i], name: names[i] });
      const idx = c.idx;
      const few = idx.length < 150;
      traces.push({
        type: "scatter", mode: few ? "lines+markers" : "lines", x: c.xs, y: c.ys, name: names[i], uid: `${HIDDEN_UID}run-${i}`,
        line: { color: colors[i], width: 2.5 }, marker: { size: 4, color: colors[i] },
        customdata: idx, hovertemplate: `${names[i]}<br>step %{customdata}<br>${ax} = %{x:.4f}, ${ay} = %{y:.4f}<extra></extra>`,
      });
      const last = c.exit ? undefined : idx[idx.length - 1];
      if (last !== undefined) {
        traces.push({ type: "scatter", mode: "markers", x: [r.xs[last]], y: [r.ys[last]], showlegend: false, uid: `${HIDDEN_UID}end-${i}`,
          marker: { size: 11, color: colors[i], line: { color: "white", width: 2 } }, hoverinfo: "skip" });
      }
    });
    if (exits.length) traces.push({ type: "scatter", mode: "markers+text", name: "left the view", showlegend: false, uid: `${HIDDEN_UID}exits`,
      x: exits.map((e) => e.x), y: exits.map((e) => e.y), text: exits.map(() => "diverged"),
      textposition: exits.map((e) => labelPosition(e, this.info.view)),
      textfont: { color: "#fff", size: 11 }, customdata: exits.map((e) => e.step),
      marker: { symbol: "x", size: 13, color: exits.map((e) => e.color), line: { color: "white", width: 1.5 } },
      hovertext: exits.map((e) => e.name), hovertemplate: "%{hovertext}<br>left the view at step %{customdata}: diverged<extra></extra>" });
    const minima = this.info.minima || [], saddles = this.info.saddles || [];
    if (minima.length) traces.push({ type: "scatter", mode: "markers", name: "minimum", showlegend: false, uid: "minima", x: minima.map((m) => m[0]), y: minima.map((m) => m[1]),
      marker: { symbol: "x-thin", size: 12, line: { width: 3, color: "white" } }, hovertemplate: "minimum (%{x:.3f}, %{y:.3f})<extra></extra>" });
    if (saddles.length) traces.push({ type: "scatter", mode: "markers", name: "saddle", showlegend: false, uid: "saddles", x: saddles.map((m) => m[0]), y: saddles.map((m) => m[1]),
      marker: { symbol: "diamond-open", size: 11, color: "white", line: { width: 2.5, color: "white" } }, hovertemplate: "saddle (%{x:.3f}, %{y:.3f})<extra></extra>" });
    traces.push({ type: "scatter", mode: "markers", name: "start", showlegend: false, uid: "start", x: [start[0]], y: [start[1]],
      marker: { symbol: "star", size: 16, color: "#ffd166", line: { color: "#1f2933", width: 1.5 } },
      hovertemplate: "start (%{x:.3f}, %{y:.3f})<extra></extra>" });
    const layout = {
      // No legend: the Runs table and the optimizer cards name each colour, so 8 runs never shrink the plot.
      font: FONT, margin: { l: 45, r: 10, t: 12, b: 40 }, dragmode: false, hovermode: "closest", showlegend: false,
      hoverlabel: HOVERLABEL,
      xaxis: { range: [x0, x1], title: { text: this.axisNames()[0] }, zeroline: false, constrain: "domain", showgrid: !bg },
      yaxis: { range: [y0, y1], title: { text: this.axisNames()[1] }, zeroline: false, scaleanchor: "x", constrain: "domain",
        showgrid: !bg },
      uirevision: this.info.name,
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff",
      images: bg ? [{ source: bg.source, xref: "x", yref: "y", x: x0, y: y1, sizex: x1 - x0, sizey: y1 - y0,
        xanchor: "left", yanchor: "top", sizing: "stretch", layer: "below" }] : [],
    };
    // Drawn larger than its image by a quarter (a wider window): paint a sharper one.
    const size = this.el._fullLayout?._size;
    const ratio = Math.min(2, window.devicePixelRatio || 1);
    if (bg && size && Math.max(size.w * ratio / bg.width, size.h * ratio / bg.height) > 1.25 && bg.width < 1600) {
      this.paintBackground();
    }
    this.plotted = traces;
    live(); // the axes are Plotly's from its last draw; redrawn below should this draw move them
    return draw(this.el, traces, layout, plotConfig("losslab-contour")).then((el) => {
      this.watchPlotly();
      live();
      return el;
    });
  }

  /** Plotly moved the axes (a resize, a zoom) or hid a run (a legend click): draw the paths again. */
  watchPlotly() {
    if (this.watching || !this.el.on) return;
    this.watching = true;
    for (const ev of ["plotly_afterplot", "plotly_relayout", "plotly_restyle"]) this.el.on(ev, () => this.live?.());
  }
}

/**
 * Where the label of a mark at (x, y) goes so that it stays on the plot (PNG export: Plotly draws
 * these; in the page the path layer does): above the mark, below it at the top, inward at the sides.
 */
function labelPosition({ x, y }, [x0, x1, y0, y1]) {
  const fx = (x - x0) / (x1 - x0), fy = (y - y0) / (y1 - y0);
  return `${fy > 0.9 ? "bottom" : "top"} ${fx < 0.15 ? "right" : fx > 0.85 ? "left" : "center"}`;
}
