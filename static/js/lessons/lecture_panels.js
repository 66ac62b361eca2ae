// The renderers of lessons 10–13's panels (softmax, activations and shapes, SGD's O(1/ε), saddles),
// joined to their server functions (engine/lessons/lecture_panels.py) by name. Like panels.js they
// draw what the server computed for the scene on screen and compute nothing of their own.

import { html, plot } from "./panels.js";

/** Title of each panel's card. */
export const TITLES = {
  softmax_grads: "Per class at the current point: outputs, targets and both gradients",
  jacobians: "Jacobians at the current point: softmax against a scalar activation",
  activation_curves: "Activations (solid) and their derivatives (dashed)",
  shapes: "The 2-2-1 network: each parameter, its gradient, their shapes",
  sgd_curves: "Excess loss against step k, averaged over seeds (log-log)",
  saddle_share: "Critical points by kind, in d dimensions",
  index_height: "Height f against index fraction α = index/d",
  critical_here: "The critical points of this landscape, by height",
};

/** Panels that follow the animation's current point: asked for again as it moves. */
export const POINT_PANELS = ["softmax_grads", "jacobians", "shapes"];

const f3 = (v) => (v === null || v === undefined ? "–" : Number(v) === 0 ? "0" : Number(Number(v).toPrecision(3)).toString().replace(/-/g, "−"));
const vec = (a) => `(${a.map(f3).join(", ")})`;
const arr = (v) => (Array.isArray(v) ? `[${v.map(arr).join(", ")}]` : f3(v));
const shape = (s) => (s.length ? s.join(" × ") : "scalar");
const DIM_COLORS = ["#6c757d", "#2e86ab", "#3bb273", "#f0a202", "#e4572e", "#7b2d8b"];

function softmaxGrads(el, d) {
  const cell = (v, k, zeroMark) => `<td class="num" data-k="${k}"${zeroMark && v === 0 ? ' data-zero="true"' : ""}>${f3(v)}</td>`;
  const row = (name, key, arr, zeroMark = false) =>
    `<tr data-row="${key}"><th scope="row">${name}</th>${arr.map((v, k) => cell(v, k, zeroMark)).join("")}</tr>`;
  html(el, `<p>At (z₁, z₂) = ${vec(d.point)}, ε = ${f3(d.eps)}: CE = <b class="num">${f3(d.loss)}</b>.</p>
    <table class="sm-table"><thead><tr><th></th><th>class 1 (true)</th><th>class 2</th><th>class 3</th></tr></thead><tbody>
    ${row("logit z", "z", d.z)}${row("output y = softmax(z)", "y", d.y)}${row("target t", "t", d.t)}
    ${row("∂CE/∂y = −t/y", "dy", d.dCE_dy, true)}${row("∂CE/∂z = y − t", "dz", d.dCE_dz, true)}</tbody></table>`);
}

function matrix(m, cls) {
  return `<table class="mat ${cls}">${m.map((r, i) => `<tr>${r.map((v, j) =>
    `<td class="num${i === j ? " diag" : ""}" data-i="${i}" data-j="${j}">${f3(v)}</td>`).join("")}</tr>`).join("")}</table>`;
}

function jacobians(el, d) {
  html(el, `<p>At z = ${vec(d.z)}, y = ${vec(d.softmax)}.</p>
    <div class="mat-pair">
      <div><div class="mat-title">softmax: diag(y) − yyᵀ</div>${matrix(d.softmax_jacobian, "softmax-jac")}
        <div>row sums ${vec(d.softmax_row_sums)}</div></div>
      <div><div class="mat-title">σ on each zₖ: diag(σ'(zₖ))</div>${matrix(d.scalar_jacobian, "scalar-jac")}
        <div>off-diagonal: all 0</div></div>
    </div>
    <p class="chain">(diag(y) − yyᵀ)ᵀ · ∂CE/∂y = ${vec(d.chain)} = y − t = ${vec(d.dCE_dz)}</p>`);
}

function activationCurves(el, d) {
  const colors = { sigmoid: "#2e86ab", tanh: "#e4572e", relu: "#3bb273" };
  const names = { sigmoid: "σ", tanh: "tanh", relu: "ReLU" };
  const traces = [];
  for (const [k, c] of Object.entries(d.curves)) {
    const w = k === d.current ? 3.5 : 2;
    traces.push({ x: d.z, y: c.value, name: names[k], mode: "lines", line: { color: colors[k], width: w } });
    traces.push({ x: d.z, y: c.derivative, name: `${names[k]}' (max ${f3(c.max_derivative)})`, mode: "lines",
      line: { color: colors[k], width: w, dash: "dash" }, line_shape: k === "relu" ? "hv" : "linear" });
  }
  traces.push({ x: [0], y: [d.relu_subgradient_at_0], name: `ReLU'(0) = ${f3(d.relu_subgradient_at_0)} (sub-gradient)`,
    mode: "markers", marker: { color: colors.relu, size: 10, symbol: "circle" } });
  return plot(el, traces, { xaxis: { title: { text: "z" }, range: [-4, 4], zeroline: true },
    yaxis: { range: [-1.1, 1.6], title: { text: "a(z), a'(z)" }, zeroline: true }, legend: { x: 0, xanchor: "left", y: 1, yanchor: "top", font: { size: 10 } } });
}

function shapes(el, d) {
  const ex = d.example;
  const rows = ex.params.map((p) => `<tr data-param="${p.name}"><th scope="row">${p.name}</th>
    <td class="shape" data-shape="${p.shape.join("x")}">${shape(p.shape)}</td><td>${arr(p.value)}</td>
    <td class="num">${arr(d.mean_grads[p.name])}</td>
    <td class="shape grad-shape" data-shape="${p.grad_shape.join("x")}">${shape(p.grad_shape)}</td></tr>`);
  const chain = ex.forward.map((r) => `${r.name} (${shape(r.shape)})`).join(" → ");
  html(el, `<p>W₂ = ${vec(d.point)}, a = ${d.activation}; mean Div over ${d.n_examples} examples = <b class="num">${f3(d.mean_loss)}</b>.</p>
    <table class="shape-table"><thead><tr><th>param</th><th>shape</th><th>value</th><th>∂E/∂param</th><th>its shape</th></tr></thead>
    <tbody>${rows.join("")}</tbody></table>
    <p>Forward: ${chain}. Backward: δ₂ (1) → ∂E/∂h = W₂ᵀδ₂ (2) → δ₁ = ∂E/∂h ⊙ a'(z₁) (2).</p>
    <p>∂E/∂W₂ by backprop ${vec(d.mean_grads.W2[0])}; by central differences of the surface ${vec(d.finite_difference)}.</p>`);
}

function sgdCurves(el, d, { colors }) {
  if (!d.curves.length) return html(el, "<p>No plain SGD run with gradient noise on the quadratic.</p>");
  const traces = [];
  for (const c of d.curves) {
    const col = colors[c.run];
    traces.push({ x: c.k, y: c.mean, name: `${c.label}: slope ${f3(c.slope)} (theory ${f3(c.slope_theory)})`, mode: "lines+markers",
      marker: { size: 4 }, line: { color: col, width: 2 } });
    traces.push({ x: c.k, y: c.exact, name: "exact E[excess]", mode: "lines", line: { color: col, width: 1, dash: "dot" },
      showlegend: c === d.curves[0] });
  }
  return plot(el, traces, {
    xaxis: { type: "log", title: { text: `step k (mean of ${d.seeds} seeds; slope fitted for k ≥ ${d.fit_from})` }, exponentformat: "power", dtick: 1 },
    yaxis: { type: "log", title: { text: "E(x_k) − E*" }, exponentformat: "power", dtick: 1 },
  });
}

function saddleShare(el, d) {
  const x = d.rows.map((r) => `d = ${r.dim}`);
  const bar = (key, name, color) => ({ type: "bar", x, y: d.rows.map((r) => r[key] / r.total), name, marker: { color },
    text: d.rows.map((r) => (key === "saddles" ? `${f3((100 * r[key]) / r.total)} %` : "")), textposition: "inside",
    customdata: d.rows.map((r) => r[key]), hovertemplate: `%{customdata} ${name} of %{x}<extra></extra>` });
  return plot(el, [bar("minima", "minima", "#3bb273"), bar("saddles", "saddles", "#f0a202"), bar("maxima", "maxima", "#2e86ab")], {
    barmode: "stack", yaxis: { title: { text: "share of the critical points found" }, range: [0, 1] },
    xaxis: { title: { text: `dimension (counts: ${d.rows.map((r) => r.total).join(", ")}; seed ${d.seed})` } },
  });
}

function indexHeight(el, d) {
  const traces = d.scatter.filter((s) => s.dim > 1).map((s, i) => ({
    x: s.alpha, y: s.value, name: `d = ${s.dim}`, mode: "markers", marker: { size: 6, opacity: 0.75, color: DIM_COLORS[(i + 1) % DIM_COLORS.length] },
  }));
  return plot(el, traces, { xaxis: { title: { text: "index fraction α (0: minimum, 1: maximum)" }, range: [-0.05, 1.05] },
    yaxis: { title: { text: "height f" } } });
}

function criticalHere(el, d) {
  const colors = { minimum: "#3bb273", saddle: "#f0a202", maximum: "#2e86ab" };
  const traces = Object.keys(colors).map((k) => {
    const pts = d.points.filter((p) => p.kind === k);
    return { x: pts.map(() => k), y: pts.map((p) => p.value), name: `${pts.length} ${k === "maximum" ? "maxima" : k === "minimum" ? "minima" : "saddles"}`,
      mode: "markers", marker: { size: 9, color: colors[k] }, type: "scatter" };
  });
  // The legend in the bottom right corner: the maxima there lie high, the corner is empty.
  return plot(el, traces, { xaxis: { title: { text: "kind (index 0, 1, 2)" } }, yaxis: { title: { text: "height f" } },
    legend: { x: 1, xanchor: "right", y: 0, yanchor: "bottom", bgcolor: "rgba(255,255,255,0.85)", font: { size: 11 } } });
}

/** Panel name → renderer(el, data, {colors, names}); the same names as the server's lecture PANELS. */
export const RENDERERS = {
  softmax_grads: softmaxGrads, jacobians, activation_curves: activationCurves, shapes, sgd_curves: sgdCurves,
  saddle_share: saddleShare, index_height: indexHeight, critical_here: criticalHere,
};
