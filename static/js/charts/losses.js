// Loss against iteration for every run, on a log axis when every loss is positive.

import { Decimator } from "../trajectories.js";
import { FONT, plotConfig, draw } from "./common.js";

export class LossChart {
  constructor(el) {
    this.el = el;
    this.decimator = new Decimator();
  }

  render({ store, colors, names, upto }) {
    const traces = [];
    let positive = true;
    store?.runs.forEach((r, i) => {
      const d = this.decimator.of(r, upto);
      const idx = d.idx;
      const ys = d.pick(r.losses);
      if (ys.some((v) => v <= 0)) positive = false;
      traces.push({ type: "scatter", mode: "lines", x: idx, y: ys, name: names[i], line: { color: colors[i], width: 2 },
        hovertemplate: `${names[i]}<br>step %{x}<br>loss %{y:.4g}<extra></extra>` });
    });
    const layout = {
      font: FONT, margin: { l: 55, r: 10, t: 10, b: 40 }, showlegend: false, hovermode: "x unified",
      xaxis: { title: { text: "iteration" }, zeroline: false },
      yaxis: { title: { text: "loss" }, type: positive ? "log" : "linear", exponentformat: "power" },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", uirevision: "losses",
    };
    return draw(this.el, traces, layout, plotConfig("losslab-losses"));
  }
}
