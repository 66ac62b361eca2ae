// Loss against iteration for every run, always on a log axis (see clip.js's lossScale).

import { Decimator } from "../trajectories.js";
import { lossScale } from "./clip.js";
import { FONT, HOVERLABEL, plotConfig, draw } from "./common.js";

export class LossChart {
  constructor(el) {
    this.el = el;
    this.decimator = new Decimator();
  }

  render({ store, colors, names, upto, zmin }) {
    const series = (store?.runs || []).map((r) => {
      const d = this.decimator.of(r, upto);
      return { idx: d.idx, ys: d.pick(r.losses), status: r.status };
    });
    const scale = lossScale(series, zmin);
    const traces = series.map((s, i) => ({
      type: "scatter", mode: "lines", x: s.idx, y: s.ys.map(scale.map), name: names[i],
      line: { color: colors[i], width: 2, dash: s.status === "diverged" ? "dot" : "solid" },
      customdata: s.ys, hovertemplate: `${names[i]}<br>step %{x}<br>loss %{customdata:.4g}<extra></extra>`,
    }));
    const layout = {
      font: FONT, margin: { l: 55, r: 10, t: 10, b: 40 }, showlegend: false, hovermode: "x unified", hoverlabel: HOVERLABEL,
      xaxis: { title: { text: "iteration" }, zeroline: false },
      yaxis: { title: { text: scale.label }, type: "log", exponentformat: "power", range: scale.range },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", uirevision: "losses",
    };
    return draw(this.el, traces, layout, plotConfig("losslab-losses", { zoom: true }));
  }
}
