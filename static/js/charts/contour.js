// Contour of the loss with trajectories, minima, saddles and the start point; click or drag to move the start.

import { drawIndices, pick } from "../trajectories.js";
import { FONT, COLORSCALE, hexToRgba, plotConfig } from "./common.js";

export class ContourChart {
  constructor(el, { onPickStart }) {
    this.el = el;
    this.onPickStart = onPickStart;
    this.grid = null;
    this.ghosts = [];
    this.installPointer();
  }

  setSurface(grid, info, transform) {
    this.grid = grid;
    this.info = info;
    this.transform = transform;
    this.z = grid.z.map((row) => row.map(transform.f));
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

  render({ store, colors, names, upto, start, arrows, overlay }) {
    if (!this.grid) return;
    const [x0, x1, y0, y1] = this.info.view;
    const traces = [{
      type: "contour", x: this.grid.x, y: this.grid.y, z: this.z, colorscale: COLORSCALE, ncontours: 28,
      contours: { coloring: "heatmap", showlines: true }, line: { width: 0.5, color: "rgba(255,255,255,0.35)" },
      colorbar: { title: { text: this.transform.label, side: "right" }, thickness: 10, len: 0.9 },
      hovertemplate: "x=%{x:.3f}<br>y=%{y:.3f}<extra></extra>", name: "loss", showlegend: false,
    }];
    if (overlay) {
      // The local quadratic model: its centre is where a Newton step from the current point lands.
      traces.push({ type: "contour", x: overlay.x, y: overlay.y, z: overlay.z, showscale: false, ncontours: 16, name: "quadratic model",
        contours: { coloring: "none" }, line: { color: "rgba(255,255,255,0.9)", width: 1.2, dash: "dash" }, hoverinfo: "skip" });
    }
    for (const g of this.ghosts) {
      traces.push({ type: "scatter", mode: "lines", x: g.x, y: g.y, line: { color: hexToRgba(g.color, 0.35), width: 2, dash: "dot" },
        hoverinfo: "skip", showlegend: false });
    }
    store?.runs.forEach((r, i) => {
      const idx = drawIndices(r.xs.length, upto);
      const few = idx.length < 150;
      traces.push({
        type: "scatter", mode: few ? "lines+markers" : "lines", x: pick(r.xs, idx), y: pick(r.ys, idx), name: names[i],
        line: { color: colors[i], width: 2.5 }, marker: { size: 4, color: colors[i] },
        customdata: idx, hovertemplate: `${names[i]}<br>step %{customdata}<br>(%{x:.4f}, %{y:.4f})<extra></extra>`,
      });
      const last = idx[idx.length - 1];
      if (last !== undefined) {
        traces.push({ type: "scatter", mode: "markers", x: [r.xs[last]], y: [r.ys[last]], showlegend: false,
          marker: { size: 11, color: colors[i], line: { color: "white", width: 2 } }, hoverinfo: "skip" });
      }
    });
    const minima = this.info.minima || [], saddles = this.info.saddles || [];
    if (minima.length) traces.push({ type: "scatter", mode: "markers", name: "minimum", showlegend: false, x: minima.map((m) => m[0]), y: minima.map((m) => m[1]),
      marker: { symbol: "x-thin", size: 12, line: { width: 3, color: "white" } }, hovertemplate: "minimum (%{x:.3f}, %{y:.3f})<extra></extra>" });
    if (saddles.length) traces.push({ type: "scatter", mode: "markers", name: "saddle", showlegend: false, x: saddles.map((m) => m[0]), y: saddles.map((m) => m[1]),
      marker: { symbol: "diamond-open", size: 11, line: { width: 2.5, color: "white" } }, hovertemplate: "saddle (%{x:.3f}, %{y:.3f})<extra></extra>" });
    traces.push({ type: "scatter", mode: "markers", name: "start", showlegend: false, x: [start[0]], y: [start[1]],
      marker: { symbol: "star", size: 16, color: "#ffd166", line: { color: "#1f2933", width: 1.5 } },
      hovertemplate: "start (%{x:.3f}, %{y:.3f})<extra></extra>" });
    const annotations = (arrows || []).map((a) => ({
      x: a.to[0], y: a.to[1], ax: a.from[0], ay: a.from[1], xref: "x", yref: "y", axref: "x", ayref: "y",
      showarrow: true, arrowhead: a.head ?? 2, arrowsize: 1.2, arrowwidth: 2, arrowcolor: a.color, text: "",
    }));
    const layout = {
      font: FONT, margin: { l: 45, r: 10, t: 28, b: 40 }, dragmode: false, hovermode: "closest",
      xaxis: { range: [x0, x1], title: { text: this.info.axes?.[0] || "x" }, zeroline: false, constrain: "domain" },
      yaxis: { range: [y0, y1], title: { text: this.info.axes?.[1] || "y" }, zeroline: false, scaleanchor: "x", constrain: "domain" },
      legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom", bgcolor: "rgba(255,255,255,0)" },
      annotations, uirevision: this.info.name,
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff",
    };
    return Plotly.react(this.el, traces, layout, plotConfig("losslab-contour"));
  }
}
