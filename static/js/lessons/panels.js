// The lesson panels' renderers, one per panel, joined to the server's panel functions
// (engine/lessons/panels.py) by name in RENDERERS. Each draws what the server computed for
// the scene on screen; none computes anything of its own.

import { FONT, HOVERLABEL, plotConfig } from "../charts/common.js";

const GREY = "#6c757d";

/** Title and, where it helps, a one-line caption of each panel. */
export const TITLES = {
  iterates: "w against step k",
  eigen_errors: "|error| along each eigenvector",
  taylor: "The local quadratic model at Newton's point",
  rate_map: "Heavy ball: rate over (η, β) — click to set both",
  grad_norm: "Gradient norm ‖∇E‖ against step k",
  hessian: "Hessian at the current point",
  loss_curves: "Output losses and their slopes",
  compare_losses: "Loss above its minimum: CE and L2",
  tuned: "Each loss at its own best step size",
  weight_norm: "Weight norm ‖w‖ against step k",
  variance: "Mini-batch gradient variance against b",
  backprop: "Backprop at the current point",
  losses: "Loss above its minimum against step k",
};

function layout(extra = {}) {
  return {
    font: FONT, margin: { l: 56, r: 12, t: 8, b: 40 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", hoverlabel: HOVERLABEL,
    // Over the plot's top right corner, on a white ground: the legend never takes height from the plot.
    legend: { x: 1, xanchor: "right", y: 1, yanchor: "top", bgcolor: "rgba(255,255,255,0.85)", bordercolor: "#d9dee4",
      borderwidth: 1, font: { size: 11 } },
    ...extra,
  };
}

/** A log axis with a label every few decades, however many decades the data spans. */
function logAxis(title, traces) {
  const ys = traces.flatMap((t) => t.y || []).filter((v) => v > 0);
  const span = ys.length ? Math.log10(Math.max(...ys)) - Math.log10(Math.min(...ys)) : 1;
  return { type: "log", title: { text: title }, exponentformat: "power", dtick: Math.max(1, Math.ceil(span / 6)) };
}

const observed = new WeakSet();

/** Keep a plot the size of its card when the window (or the card) changes size. */
function follow(el) {
  if (observed.has(el) || !window.ResizeObserver) return;
  observed.add(el);
  let last = "";
  new ResizeObserver(() => {
    const key = `${el.clientWidth}x${el.clientHeight}`;
    // A card taken off the page (the next step, a closed lesson) or hidden (present mode's one figure)
    // reports size 0: nothing to follow, and Plotly would throw.
    if (key === last || !el.isConnected || !el.clientWidth || !el._fullLayout || el.classList.contains("table-view")) return;
    last = key;
    Plotly.relayout(el, { width: el.clientWidth, height: el.clientHeight > 80 ? el.clientHeight : 280 });
  }).observe(el);
}

export function plot(el, traces, extra) {
  follow(el);
  el.classList.remove("table-view");
  // The card sizes the plot (a flex item): draw at that size, not at Plotly's default 450 px.
  const size = { width: el.clientWidth || undefined, height: el.clientHeight > 80 ? el.clientHeight : 280 };
  return Plotly.react(el, traces, layout({ ...size, ...extra }), { ...plotConfig("losslab-lesson"), displayModeBar: false });
}

export function html(el, text) {
  if (el.data) Plotly.purge(el);
  el.classList.add("table-view");
  el.innerHTML = text;
}

const f3 = (v) => (v === null || v === undefined ? "–" : typeof v === "number" ? Number(v.toPrecision(3)).toString() : String(v));
const positive = (arr) => arr.map((v) => (v === null || !(v > 0) ? null : v));

function iterates(el, data, { colors }) {
  const traces = data.runs.map((r, i) => ({
    x: r.k, y: r.w, name: r.label, mode: "lines+markers", marker: { size: 5 }, line: { color: colors[i], width: 2 },
  }));
  const [lo, hi] = data.range;
  return plot(el, traces, {
    xaxis: { title: { text: "step k" }, range: [0, Math.min(data.steps, 30)] },
    yaxis: { title: { text: "w" }, range: [lo, hi], zeroline: true, zerolinecolor: "#1f2933" },
  });
}

function eigenErrors(el, data, { colors }) {
  const traces = [];
  data.runs.forEach((r, i) => {
    const [lmin, lmax] = [...data.eigenvalues].sort((a, b) => a - b);
    const steepFirst = data.eigenvalues[0] > data.eigenvalues[1];
    const cols = steepFirst ? [1, 0] : [0, 1]; // (shallow, steep)
    [["shallow", lmin, "dot"], ["steep", lmax, "solid"]].forEach(([name, lam, dash], j) => {
      traces.push({ x: r.k, y: positive(r.measured[cols[j]]), name: `${r.label}: ${name} (λ = ${f3(lam)})`, mode: "lines",
        line: { color: colors[i], width: 2, dash } });
      if (r.predicted) traces.push({ x: r.k, y: positive(r.predicted[cols[j]]), name: "(1 − ηλ)ᵏ e₀", mode: "markers",
        marker: { color: colors[i], size: 5, symbol: "circle-open" }, showlegend: i === 0 && j === 0 });
    });
  });
  return plot(el, traces, { xaxis: { title: { text: "step k" } }, yaxis: logAxis("|error|", traces) });
}

function taylor(el, data, { colors }) {
  if (!data.point) return html(el, "<p>The run's current point is far outside the view.</p>");
  const traces = [
    { type: "contour", x: data.x, y: data.y, z: data.shown, ncontours: 16, colorscale: "Viridis", showscale: false,
      contours: { coloring: "heatmap", showlines: true }, line: { width: 0.5, color: "rgba(255,255,255,0.5)" }, opacity: 0.85,
      name: "model", hoverinfo: "skip" },
    { x: [data.point[0]], y: [data.point[1]], mode: "markers", name: `${data.label} is here`,
      marker: { size: 11, color: colors[data.run] || "#e4572e", line: { color: "#fff", width: 1.5 } } },
    { x: [data.point[0], data.newton_point[0]], y: [data.point[1], data.newton_point[1]], mode: "lines+markers",
      name: `Newton jumps to the model's ${data.kind === "minimum" ? "minimum" : "stationary point"}`,
      line: { color: "#1f2933", dash: "dash" }, marker: { symbol: ["circle-open", "x"], size: [1, 12], color: "#1f2933" } },
  ];
  const [x0, x1] = [data.x[0], data.x[data.x.length - 1]], [y0, y1] = [data.y[0], data.y[data.y.length - 1]];
  el.dataset.kind = data.kind;
  return plot(el, traces, {
    xaxis: { range: [x0, x1], title: { text: `model: a ${data.kind === "minimum" ? "bowl" : data.kind}, λ = ${data.eigenvalues.map(f3).join(", ")}` } },
    yaxis: { range: [y0, y1], scaleanchor: undefined },
  });
}

function rateMap(el, data) {
  // Converging cells by rate (green fast … yellow slow), diverged cells (rate ≥ 1) in grey, apart from the scale.
  const rate = data.rate || data.steps_to_tol;
  const conv = rate.map((row, j) => row.map((v, i) => (data.diverged[j][i] ? null : v)));
  const div = data.diverged.map((row) => row.map((d) => (d ? 1 : null)));
  const traces = [
    { type: "heatmap", x: data.lrs, y: data.betas, z: div, colorscale: [[0, "#9aa5b1"], [1, "#9aa5b1"]], showscale: false,
      hovertemplate: "η=%{x:.3g}<br>β=%{y:.3f}<br>diverges<extra></extra>", name: "diverges" },
    { type: "heatmap", x: data.lrs, y: data.betas, z: conv, zmax: data.rate ? 1 : undefined,
      zmin: data.rate && data.best ? Math.floor(data.best[2] * 20) / 20 : undefined,
      colorscale: [[0, "#1a9850"], [0.5, "#a6d96a"], [0.8, "#fee08b"], [1, "#fdae61"]],
      colorbar: { title: { text: data.rate ? "rate" : "steps" }, thickness: 10, len: 0.9 },
      hovertemplate: "η=%{x:.3g}<br>β=%{y:.3f}<br>rate %{z:.3f}<extra></extra>", name: "converges" },
  ];
  if (data.best) traces.push({ type: "scatter", mode: "markers+text", x: [data.best[0]], y: [data.best[1]], name: "(η*, β*)",
    text: [`(η*, β*): ${f3(data.best[2])}`], textposition: "middle left", textfont: { size: 11 },
    marker: { symbol: "star", size: 15, color: "#ffd166", line: { color: "#1f2933", width: 1 } }, hoverinfo: "skip" });
  if (data.current) traces.push({ type: "scatter", mode: "markers+text", x: [data.current[0]], y: [data.current[1]], name: "this run",
    text: [data.current_rate === null ? "" : `rate ${f3(data.current_rate)}`], textposition: "bottom left", textfont: { size: 11 },
    marker: { symbol: "circle-open", size: 15, line: { width: 3, color: "#1f2933" } }, hoverinfo: "skip" });
  return plot(el, traces, { dragmode: false, showlegend: false, margin: { l: 50, r: 8, t: 8, b: 40 },
    xaxis: { type: "log", title: { text: "step size η" } }, yaxis: { title: { text: "momentum β" }, range: [0, 1] } });
}

function gradNorm(el, data, { colors }) {
  const traces = data.runs.map((r, i) => ({ x: r.k, y: positive(r.g), name: r.label, mode: "lines", line: { color: colors[i], width: 2 } }));
  return plot(el, traces, { xaxis: { title: { text: "step k" } }, yaxis: logAxis("‖∇E‖", traces) });
}

function hessian(el, data) {
  if (!data.point) return html(el, "<p>No finite point.</p>");
  const [a, b] = data.eigenvalues;
  html(el, `<p class="hessian-line">At (${data.point.map(f3).join(", ")}): eigenvalues <b class="num">${f3(a)}</b> and
    <b class="num">${f3(b)}</b>: ${data.kind}.</p>`);
}

function lossCurves(el, data) {
  const t = (c, key, name, color, dash) => ({ x: data.y, y: c[key], name, mode: "lines", line: { color, width: 2, dash } });
  const [d0, d1] = data.curves;
  const traces = [
    t(d1, "ce", "CE, d = 1", "#e4572e"), t(d0, "ce", "CE, d = 0", "#2e86ab"),
    t(d1, "l2", "L2, d = 1", "#e4572e", "dot"), t(d0, "l2", "L2, d = 0", "#2e86ab", "dot"),
    t(d1, "ce_dy", "dCE/dy, d = 1", "#f0a202", "dash"), t(d0, "ce_dy", "dCE/dy, d = 0", "#3bb273", "dash"),
    t(d1, "l2_dy", "dL2/dy, d = 1", "#f0a202", "dashdot"), t(d0, "l2_dy", "dL2/dy, d = 0", "#3bb273", "dashdot"),
  ];
  return plot(el, traces, { legend: { font: { size: 10 }, orientation: "h", x: 0, y: -0.22, yanchor: "top" },
    margin: { l: 56, r: 12, t: 8, b: 96 },
    xaxis: { title: { text: "output y" }, range: [0, 1] }, yaxis: { title: { text: "loss / slope" }, range: [-4, 4] } });
}

function compareLosses(el, data, { colors }) {
  const traces = data.series.map((s, i) => ({
    x: s.k, y: s.gap, name: `${s.label}${s.steps_95 === null ? "" : `: 95 % at step ${s.steps_95}`}`, mode: "lines",
    line: { color: s.loss === "CE" ? colors[0] : "#6c757d", width: 2, dash: s.loss === "CE" ? "solid" : "dash" },
  }));
  const shapes = data.series.filter((s) => s.steps_95 !== null).map((s) => ({
    type: "line", x0: s.steps_95, x1: s.steps_95, yref: "paper", y0: 0, y1: 1, line: { color: s.loss === "CE" ? colors[0] : GREY, width: 1, dash: "dot" },
  }));
  return plot(el, traces, { shapes, xaxis: { title: { text: "step k" } },
    yaxis: logAxis("E − E_min", traces) });
}

function tuned(el, data) {
  const rows = data.rows.map((r) => `<tr data-loss="${r.loss}"><th scope="row">${r.loss}</th><td class="num">${f3(r.best_lr)}</td>
    <td class="num">${r.best_steps ?? "never"}</td><td>${r.lrs.map((lr, j) => `${f3(lr)}: ${r.steps_95[j] ?? "–"}`).filter((_, j) => j % 2 === 0).join(" · ")}</td></tr>`);
  html(el, `<table class="tuned-table"><thead><tr><th>loss</th><th>best η</th><th>steps to 95 %</th><th>η: steps (every other η tried)</th></tr></thead>
    <tbody>${rows.join("")}</tbody></table>`);
}

function weightNorm(el, data) {
  const traces = data.series.map((s) => ({ x: s.k, y: s.norm, name: s.label, mode: "lines",
    line: { color: s.eps === 0 ? "#e4572e" : "#2e86ab", width: 2 } }));
  if (data.guide) traces.push({ x: data.guide.k, y: data.guide.norm, name: data.guide.label, mode: "lines",
    line: { color: GREY, width: 1.5, dash: "dot" } });
  return plot(el, traces, { legend: { ...layout().legend, x: 0.02, xanchor: "left" },
    xaxis: { title: { text: "step k" }, type: "log" }, yaxis: { title: { text: "‖w‖" }, rangemode: "tozero" } });
}

function variance(el, data) {
  const traces = [
    { x: data.batch_sizes, y: data.measured, name: "measured", mode: "markers", marker: { size: 9, color: "#e4572e" } },
    { x: data.batch_sizes, y: data.predicted, name: "σ²/b · (N − b)/(N − 1)", mode: "lines", line: { color: "#2e86ab", width: 2 } },
    { x: data.batch_sizes, y: data.one_over_b, name: "σ²/b", mode: "lines", line: { color: GREY, dash: "dot" } },
  ];
  return plot(el, traces, { xaxis: { type: "log", title: { text: `batch size b (N = ${data.n}; b = N has none)` } },
    yaxis: logAxis("E‖g_B − g‖²", traces) });
}

function backprop(el, data) {
  if (!data.examples.length) return html(el, "<p>The output is saturated here: no finite chain to show.</p>");
  const rows = data.examples.map((c) => {
    const b = c.backward, fw = c.forward;
    return `<tr data-kind="${c.kind}"><td>${c.kind}<br>x = ${f3(c.x)}, d = ${c.d}</td>
      <td>u = ${f3(fw.u)}, h = ${f3(fw.h)},<br>z = ${f3(fw.z)}, y = ${f3(fw.y)}</td>
      <td>${f3(b.dDiv_dy)} · ${f3(b.dy_dz)} · ${f3(b.dz_dh)} · ${f3(b.dh_du)} · ${f3(b.du_dw1)} = <b>${f3(c.grad[0])}</b></td>
      <td>${f3(b.dDiv_dy)} · ${f3(b.dy_dz)} · ${f3(b.dz_dw2)} = <b>${f3(c.grad[1])}</b></td>
      <td>${f3(c.engine_grad[0])}, ${f3(c.engine_grad[1])}</td></tr>`;
  });
  const c0 = data.examples[0];
  html(el, `<p>At (w1, w2) = (${f3(data.point[0])}, ${f3(data.point[1])}), a = ${data.activation}, loss ${data.loss}.</p>
    <table class="bp-table"><thead><tr><th>example</th><th>forward</th><th>∂Div/∂w1 = ∂Div/∂y · ∂y/∂z · w2 · a'(u) · x</th>
    <th>∂Div/∂w2 = ∂Div/∂y · ∂y/∂z · h</th><th>engine</th></tr></thead><tbody>${rows.join("")}</tbody></table>
    <p>Mean over all examples: (${f3(c0.mean_grad[0])}, ${f3(c0.mean_grad[1])}).</p>`);
}

function losses(el, data, { colors }) {
  const traces = data.runs.map((r, i) => ({ x: r.k, y: positive(r.gap), name: r.label, mode: "lines", line: { color: colors[i], width: 2 } }));
  return plot(el, traces, { xaxis: { title: { text: "step k" } }, yaxis: logAxis("E − E_min", traces) });
}

/** Panel name → renderer(el, data, {colors, names}); the same names as the server's PANELS. */
export const RENDERERS = {
  iterates, eigen_errors: eigenErrors, taylor, rate_map: rateMap, grad_norm: gradNorm, hessian, loss_curves: lossCurves,
  compare_losses: compareLosses, tuned, weight_norm: weightNorm, variance, backprop, losses,
};

/** Clicks on the rate map give (η, β) in data coordinates (capture phase: Plotly's drag layer would eat them). */
export function installRateClick(el, onPick) {
  el.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    const lay = el._fullLayout;
    if (!lay?.xaxis) return;
    const r = el.getBoundingClientRect(), xa = lay.xaxis, ya = lay.yaxis;
    const px = ev.clientX - r.left - xa._offset, py = ev.clientY - r.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return;
    onPick(xa.p2d(px), ya.p2d(py));
  }, true);
}
