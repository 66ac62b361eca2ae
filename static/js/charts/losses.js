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
      yaxis: { title: { text: scale.label }, type: "log", exponentformat: "power", range: scale.range, ...logTicks(scale.range) },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", uirevision: "losses",
    };
    return draw(this.el, traces, layout, plotConfig("losslab-losses", { zoom: true }));
  }
}

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** A tick's text: plain for 0.001 … 9999, else m×10ⁿ. */
function tickText(v) {
  const n = Math.floor(Math.log10(v) + 1e-9), m = Math.round(v / 10 ** n);
  if (n >= -3 && n <= 3) return String(Number(v.toPrecision(1)));
  const pow = `10${String(n).replace(/./g, (c) => SUPERSCRIPT[c])}`;
  return m === 1 ? pow : `${m}×${pow}`;
}

/**
 * The loss axis's ticks over `range` (log₁₀). Across fewer than three decades Plotly labels every
 * digit 2…9 in small type that runs together (and reads 5 for 0.5): there, 1, 2 and 5 of each decade,
 * written out. Wider ranges: powers of ten only (Plotly would add 2 and 5 in small digits).
 */
export function logTicks([lo, hi]) {
  if (!(hi - lo < 3)) return { dtick: Math.max(1, Math.ceil((hi - lo) / 6)) }; // powers of ten, six at most
  const vals = [];
  for (let n = Math.floor(lo); n <= Math.ceil(hi); n++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** n, l = Math.log10(v);
      if (l >= lo && l <= hi) vals.push(v);
    }
  }
  return { tickmode: "array", tickvals: vals, ticktext: vals.map(tickText) };
}
