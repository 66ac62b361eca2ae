// The tuning's plots: each optimizer's sensitivity curve, and its (η, β) map beside the analytic one.

import { FONT, HOVERLABEL, plotConfig } from "./common.js";

const STAR = { symbol: "star", size: 15, color: "#ffd166", line: { color: "#1f2933", width: 1.2 } };
const CURRENT = { symbol: "circle-open", size: 13, line: { width: 2.5, color: "#1f2933" } };

function layout(extra = {}) {
  return {
    font: { ...FONT, size: 11 }, margin: { l: 52, r: 8, t: 8, b: 38 }, paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff", showlegend: false, hoverlabel: HOVERLABEL, ...extra,
  };
}

/** What a tuned optimizer's curve plots: steps to tol, or the final loss when no setting reached it. */
export function curveMetric(t) {
  return t.criterion === "loss" ? { key: "final_loss", label: "final loss", log: true } : { key: "steps", label: "steps to tol", log: true };
}

/**
 * The criterion against η at the chosen β: settings that did not reach the goal sit on the budget
 * line, diverged ones are crosses above it; the 2× band is shaded, the divergence edge dashed.
 */
export function drawCurve(el, t, protocol, color) {
  const lrs = protocol.lrs;
  const m = curveMetric(t);
  const ys = t.curve[m.key];
  const finite = ys.filter((v) => v !== null && v > 0);
  // Runs stopped early (t.stopped_at) sit on that line: they would have taken longer.
  const top = m.key === "steps" ? t.stopped_at ?? protocol.steps : Math.max(...finite, 1e-300) * 3;
  const bottom = finite.length ? Math.min(...finite) : 1;
  const traces = [{
    x: lrs, y: ys.map((v, i) => (t.curve.diverged[i] ? null : v === null || v <= 0 ? null : v)), mode: "lines+markers",
    name: m.label, line: { color, width: 2 }, marker: { size: 4, color }, connectgaps: false,
    hovertemplate: `η=%{x:.3g}<br>${m.label} %{y:.4g}<extra></extra>`,
  }];
  const missed = lrs.map((lr, i) => (!t.curve.diverged[i] && (ys[i] === null) ? lr : null)).filter((v) => v !== null);
  if (missed.length) traces.push({ x: missed, y: missed.map(() => top), mode: "markers", name: "not reached",
    marker: { symbol: "circle-open", size: 5, color: "#9aa5b1" }, hovertemplate: `η=%{x:.3g}<br>${missedText(t, protocol)}<extra></extra>` });
  const div = lrs.filter((_, i) => t.curve.diverged[i]);
  if (div.length) traces.push({ x: div, y: div.map(() => top), mode: "markers", name: "diverged",
    marker: { symbol: "x-thin-open", size: 8, color: "#c0392b", line: { width: 2, color: "#c0392b" } },
    hovertemplate: "η=%{x:.3g}<br>diverged<extra></extra>" });
  const best = t.criterion === "steps" ? t.steps_to_tol : t.final_loss;
  if (t.lr !== null) traces.push({ x: [t.lr], y: [best], mode: "markers", name: "chosen", marker: STAR,
    hovertemplate: `chosen η=%{x:.3g}<br>${m.label} %{y:.4g}<extra></extra>` });
  const shapes = [];
  if (t.within) shapes.push({ type: "rect", xref: "x", yref: "paper", x0: t.within[0], x1: t.within[1], y0: 0, y1: 1,
    fillcolor: "rgba(59,178,115,0.18)", line: { width: 0 } });
  if (t.edge !== null) shapes.push({ type: "line", xref: "x", yref: "paper", x0: t.edge, x1: t.edge, y0: 0, y1: 1,
    line: { color: "#c0392b", width: 1.5, dash: "dash" } });
  const lo = Math.log10(Math.max(bottom * 0.7, 1e-300)), hi = Math.log10(top * 1.6);
  return Plotly.react(el, traces, layout({
    xaxis: { type: "log", title: { text: "step size η", standoff: 4 }, exponentformat: "power" },
    yaxis: { type: "log", title: { text: m.label, standoff: 2 }, range: [lo, hi], exponentformat: "power" },
    shapes,
  }), plotConfig("losslab-tune-curve"));
}

/** What a setting that did not reach the goal means: not within the budget, or slower than the runs stopped at. */
function missedText(t, protocol) {
  return t.stopped_at === null || t.stopped_at === undefined ? "tol not reached"
    : `more than ${t.stopped_at} steps: stopped there (slower than ${protocol.within}× the best)`;
}

/** The measured (η, β) map of one optimizer (steps to tol, or log final loss) with the tuned point. */
export function drawMap(el, t, protocol, current) {
  const m = curveMetric(t);
  const z = t.map[m.key].map((row, j) => row.map((v, i) => (t.map.diverged[j][i] || v === null || v <= 0 ? null : Math.log10(v))));
  const traces = [
    { type: "heatmap", x: protocol.lrs, y: protocol.betas, z, colorscale: "Viridis", reversescale: false,
      colorbar: { title: { text: `log₁₀ ${m.label}`, side: "right" }, thickness: 8, len: 0.9 },
      hovertemplate: `η=%{x:.3g}<br>β=%{y:.3f}<br>log₁₀ ${m.label} %{z:.2f}<extra></extra>` },
    { type: "heatmap", x: protocol.lrs, y: protocol.betas, z: t.map.diverged.map((row) => row.map((d) => (d ? 1 : null))),
      colorscale: [[0, "#3b0f0f"], [1, "#3b0f0f"]], showscale: false, hovertemplate: "η=%{x:.3g}<br>β=%{y:.3f}<br>diverged<extra></extra>" },
    // settings that did not reach the goal: within the budget, or before their runs were stopped
    { type: "heatmap", x: protocol.lrs, y: protocol.betas, name: "not reached",
      z: t.map[m.key].map((row, j) => row.map((v, i) => (!t.map.diverged[j][i] && (v === null || v <= 0) ? 1 : null))),
      colorscale: [[0, "#d5dae0"], [1, "#d5dae0"]], showscale: false,
      hovertemplate: `η=%{x:.3g}<br>β=%{y:.3f}<br>${missedText(t, protocol)}<extra></extra>` },
  ];
  return drawMapCommon(el, traces, t, current);
}

/** The analytic rate over the same grid (quadratic only): < 1 converges, ≥ 1 diverges. */
export function drawRateMap(el, t, protocol, current) {
  const traces = [{
    type: "heatmap", x: protocol.lrs, y: protocol.betas, z: t.map.rate.map((row) => row.map((v) => Math.min(v, 1.2))),
    colorscale: [[0, "#1a9850"], [0.45, "#a6d96a"], [0.7, "#fee08b"], [0.94, "#f46d43"], [0.952, "#3b0f0f"], [1, "#3b0f0f"]],
    zmin: 0, zmax: 1.05, colorbar: { title: { text: "rate", side: "right" }, thickness: 8, len: 0.9 },
    hovertemplate: "η=%{x:.3g}<br>β=%{y:.3f}<br>rate %{z:.3f}<extra></extra>",
  }];
  return drawMapCommon(el, traces, t, current);
}

function drawMapCommon(el, traces, t, current) {
  if (t.lr !== null) traces.push({ type: "scatter", mode: "markers", x: [t.lr], y: [t.beta], name: "tuned", marker: STAR,
    hovertemplate: "tuned η=%{x:.3g}, β=%{y:.3f}<extra></extra>" });
  if (current) traces.push({ type: "scatter", mode: "markers", x: [current.lr], y: [current.momentum], name: "current",
    marker: CURRENT, hoverinfo: "skip" });
  return Plotly.react(el, traces, layout({
    dragmode: false, margin: { l: 46, r: 4, t: 6, b: 38 },
    xaxis: { type: "log", title: { text: "step size η", standoff: 4 }, exponentformat: "power" },
    yaxis: { title: { text: "momentum β", standoff: 2 }, range: [0, 1] },
  }), { ...plotConfig("losslab-tune-map"), displayModeBar: false }); // small: its modebar would cover the cells
}

/** Clicking a map calls onPick(η, β) at the clicked cell (capture phase: Plotly's drag layer eats clicks). */
export function installPick(el, onPick) {
  el.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0 || ev.target.closest(".modebar")) return;
    const xa = el._fullLayout?.xaxis, ya = el._fullLayout?.yaxis;
    if (!xa || !ya) return;
    const r = el.getBoundingClientRect();
    const px = ev.clientX - r.left - xa._offset, py = ev.clientY - r.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return;
    onPick(xa.p2d(px), ya.p2d(py));
  }, true);
}
