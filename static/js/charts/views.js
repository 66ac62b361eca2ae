// The extra plots a lesson asks for, each in its own card below the main plots.

import { drawIndices, pick } from "../trajectories.js";
import { eigenErrors, gdPrediction, outputLossCurves } from "../lessonmath.js";
import { FONT, plotConfig } from "./common.js";

const TITLES = {
  eigen_errors: "Error along each eigenvector",
  rate_map: "Convergence rate over (η, β): click to set both",
  grad_norm: "Gradient norm against iteration",
  weight_norm: "Weight norm ‖w‖ against iteration",
  loss_curves: "Output losses and their derivatives",
  variance: "Mini-batch gradient variance against batch size",
  backprop: "Backprop at the start point",
  compare: "The same runs on the other loss",
  hessian: "Hessian at the current point",
};

/** Views drawn in cards of their own (the others annotate existing plots). */
export const CARD_VIEWS = Object.keys(TITLES);

function baseLayout(extra = {}) {
  return {
    font: FONT, margin: { l: 60, r: 10, t: 10, b: 42 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff",
    legend: { orientation: "h", y: -0.25 }, ...extra,
  };
}

export class LessonViews {
  constructor(container, { onPickRate }) {
    this.container = container;
    this.onPickRate = onPickRate;
    this.cards = new Map();
  }

  /** Create (or remove) the cards for the lesson's views. */
  setViews(views) {
    const wanted = (views || []).filter((v) => CARD_VIEWS.includes(v));
    for (const [v, card] of this.cards) if (!wanted.includes(v)) { card.remove(); this.cards.delete(v); }
    for (const v of wanted) {
      if (this.cards.has(v)) continue;
      const card = document.createElement("figure");
      card.className = "card plot-card view-card";
      card.dataset.view = v;
      card.innerHTML = `<figcaption>${TITLES[v]}</figcaption><div class="plot view-plot"></div>`;
      this.container.append(card);
      this.cards.set(v, card);
      if (v === "rate_map") this.installRateClick(card.querySelector(".plot"));
    }
    this.container.hidden = this.cards.size === 0;
  }

  el(view) {
    return this.cards.get(view)?.querySelector(".plot");
  }

  render(ctx) {
    for (const v of this.cards.keys()) {
      const el = this.el(v);
      const fn = this[`render_${v}`];
      if (el && fn) fn.call(this, el, ctx);
    }
  }

  lines(el, traces, layout) {
    return Plotly.react(el, traces, baseLayout(layout), plotConfig("losslab-view"));
  }

  render_eigen_errors(el, { store, scene, colors, names, upto, catalog }) {
    if (scene.surface !== "quadratic" || !store) return;
    const { lambda_1: l1, lambda_2: l2, rotation } = scene.surfaceParams;
    const traces = [];
    store.runs.forEach((r, i) => {
      const idx = drawIndices(r.xs.length, upto);
      const { e1, e2 } = eigenErrors(r.xs, r.ys, rotation);
      traces.push({ x: idx, y: pick(e1, idx).map(Math.abs), name: `${names[i]}: along λ1`, mode: "lines", line: { color: colors[i], width: 2 } });
      traces.push({ x: idx, y: pick(e2, idx).map(Math.abs), name: `${names[i]}: along λ2`, mode: "lines", line: { color: colors[i], width: 2, dash: "dot" } });
      // (1 − ηλ)ᵏ is the heavy-ball theory at β = 0 with a constant step (declared on the catalog entry).
      const caps = catalog?.optimizers[r.optimizer]?.capabilities || {};
      const plainGd = caps.rate === "heavy_ball" && !(caps.beta && r.params[caps.beta] > 0) &&
        (r.params.schedule ?? "constant") === "constant" && !(r.params.noise > 0);
      if (plainGd && e1.length) {
        const n = r.xs.length - 1;
        for (const [e0, lam, label] of [[e1[0], l1, "λ1"], [e2[0], l2, "λ2"]]) {
          const pred = gdPrediction(e0, r.params.lr, lam, n).map(Math.abs);
          traces.push({ x: idx, y: pick(pred, idx), name: `theory (1 − ηλ)ᵏ, ${label}`, mode: "markers",
            marker: { color: colors[i], size: 4, symbol: "circle-open" }, showlegend: i === 0 && label === "λ1" });
        }
      }
    });
    this.lines(el, traces, { xaxis: { title: { text: "iteration" } }, yaxis: { type: "log", title: { text: "|error|" }, exponentformat: "power" } });
  }

  render_grad_norm(el, { store, colors, names, upto }) {
    if (!store) return;
    const traces = store.runs.map((r, i) => {
      const idx = drawIndices(r.gradNorms.length, upto);
      return { x: idx, y: pick(r.gradNorms, idx), name: names[i], mode: "lines", line: { color: colors[i], width: 2 } };
    });
    this.lines(el, traces, { xaxis: { title: { text: "iteration" } }, yaxis: { type: "log", title: { text: "‖∇f‖" }, exponentformat: "power" } });
  }

  render_weight_norm(el, { store, colors, names, upto }) {
    if (!store) return;
    const traces = store.runs.map((r, i) => {
      const idx = drawIndices(r.xs.length, upto);
      return { x: idx, y: idx.map((k) => Math.hypot(r.xs[k], r.ys[k])), name: names[i], mode: "lines", line: { color: colors[i], width: 2 } };
    });
    this.lines(el, traces, { xaxis: { title: { text: "iteration" } }, yaxis: { title: { text: "‖w‖" } } });
  }

  render_loss_curves(el) {
    if (el.dataset.drawn) return; // fixed curves: draw once
    el.dataset.drawn = "1";
    const { ys, curves } = outputLossCurves();
    const t = (key, name, color, dash) => ({ x: ys, y: curves[key], name, mode: "lines", line: { color, width: 2, dash } });
    const traces = [
      t("ce1", "CE, d = 1", "#e4572e"), t("ce0", "CE, d = 0", "#2e86ab"),
      t("l21", "L2, d = 1", "#e4572e", "dot"), t("l20", "L2, d = 0", "#2e86ab", "dot"),
      t("dce1", "dCE/dy, d = 1", "#f0a202", "dash"), t("dce0", "dCE/dy, d = 0", "#3bb273", "dash"),
      t("dl21", "dL2/dy, d = 1", "#f0a202", "dashdot"), t("dl20", "dL2/dy, d = 0", "#3bb273", "dashdot"),
    ];
    this.lines(el, traces, {
      xaxis: { title: { text: "output y" }, range: [0, 1] }, yaxis: { title: { text: "loss / derivative" }, range: [-5, 5] },
      annotations: [
        { x: 1, y: -1, text: "dCE/dy = −1 at y = d = 1", showarrow: true, ax: -80, ay: 30 },
        { x: 0, y: 1, text: "+1 at y = d = 0", showarrow: true, ax: 60, ay: -30 },
      ],
    });
  }

  render_variance(el, { theory }) {
    const v = theory?.variance;
    if (!v) return;
    const traces = [
      { x: v.batch_sizes, y: v.measured, name: "measured", mode: "markers", marker: { size: 8, color: "#e4572e" } },
      { x: v.batch_sizes, y: v.predicted, name: "σ²/b · (N − b)/(N − 1)", mode: "lines", line: { color: "#2e86ab", width: 2 } },
      { x: v.batch_sizes, y: v.batch_sizes.map((b) => v.sigma2 / b), name: "σ²/b", mode: "lines", line: { color: "#6c757d", dash: "dot" } },
    ];
    this.lines(el, traces, { xaxis: { type: "log", title: { text: "batch size b" } }, yaxis: { type: "log", title: { text: "E‖g_B − g‖²" }, exponentformat: "power" } });
  }

  render_backprop(el, { theory }) {
    const bp = theory?.backprop;
    if (!bp) return;
    el.classList.add("table-view");
    const f = (v) => (typeof v === "number" ? v.toPrecision(4) : v);
    const rows = bp.examples.map((c) => {
      const b = c.backward, fw = c.forward;
      return `<tr><td>x = ${f(c.x)}, d = ${c.d}</td><td>u = ${f(fw.u)}, h = ${f(fw.h)}, z = ${f(fw.z)}, y = ${f(fw.y)}</td>
        <td>${f(b.dDiv_dy)} · ${f(b.dy_dz)} · ${f(b.dz_dh)} · ${f(b.dh_du)} · ${f(b.du_dw1)} = <b>${f(c.grad[0])}</b></td>
        <td>${f(b.dDiv_dy)} · ${f(b.dy_dz)} · ${f(b.dz_dw2)} = <b>${f(c.grad[1])}</b></td>
        <td>${f(c.engine_grad[0])}, ${f(c.engine_grad[1])}</td></tr>`;
    });
    const c0 = bp.examples[0];
    el.innerHTML = `<p>At (w1, w2) = (${f(c0.w1)}, ${f(c0.w2)}), activation ${c0.activation}, loss ${c0.loss}. Click the contour to move the point.</p>
      <table><thead><tr><th>example</th><th>forward: u = w1·x, h = a(u), z = w2·h, y = σ(z)</th>
      <th>∂Div/∂w1 = ∂Div/∂y · ∂y/∂z · ∂z/∂h · ∂h/∂u · ∂u/∂w1</th><th>∂Div/∂w2 = ∂Div/∂y · ∂y/∂z · ∂z/∂w2</th><th>engine's gradient</th></tr></thead>
      <tbody>${rows.join("")}</tbody></table>
      <p>Mean over all examples: (${f(c0.mean_grad[0])}, ${f(c0.mean_grad[1])}), the gradient the optimizer follows.</p>`;
  }

  render_hessian(el, { theory }) {
    const p = theory?.point;
    if (!p) return;
    el.classList.add("table-view");
    const [a, b] = p.hessian.eigenvalues;
    el.innerHTML = `<p>At (${p.point.map((v) => v.toPrecision(3)).join(", ")}): eigenvalues <b>${a.toPrecision(3)}</b> and <b>${b.toPrecision(3)}</b> — ${p.hessian.kind}.</p>`;
  }

  render_compare(el, ctx) {
    ctx.compareChart?.(el);
  }

  render_rate_map(el, { sweep, current }) {
    if (!sweep) return;
    const z = sweep.rate || sweep.final_loss.map((row, j) => row.map((v, i) => (sweep.diverged[j][i] ? null : v)));
    const traces = [{
      type: "heatmap", x: sweep.lrs, y: sweep.betas, z: z.map((row) => row.map((v) => (v === null ? null : Math.min(v, 1.2)))),
      // Fast (low rate) is green, slow (rate near 1) is red, diverged (rate > 1) is dark.
      colorscale: [[0, "#1a9850"], [0.45, "#a6d96a"], [0.7, "#fee08b"], [0.94, "#f46d43"], [0.952, "#3b0f0f"], [1, "#3b0f0f"]],
      zmin: 0, zmax: 1.05,
      colorbar: { title: { text: sweep.rate ? "rate" : "final loss" }, thickness: 10 },
      hovertemplate: "η=%{x:.3g}<br>β=%{y:.3f}<br>rate %{z:.3f}<extra></extra>",
    }];
    if (current) traces.push({ type: "scatter", mode: "markers", x: [current.lr], y: [current.momentum], name: "current",
      marker: { symbol: "circle-open", size: 14, line: { width: 3, color: "#1f2933" } }, hoverinfo: "skip" });
    if (sweep.best) traces.push({ type: "scatter", mode: "markers", x: [sweep.best[0]], y: [sweep.best[1]], name: "optimal (η*, β*)",
      marker: { symbol: "star", size: 14, color: "#ffd166", line: { color: "#1f2933", width: 1 } }, hoverinfo: "skip" });
    this.lines(el, traces, { dragmode: false, showlegend: false,
      xaxis: { type: "log", title: { text: "step size η" } }, yaxis: { title: { text: "momentum β" }, range: [0, 1] } });
  }

  installRateClick(el) {
    // Capture phase: Plotly's drag layer would otherwise swallow the click.
    el.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0 || ev.target.closest(".modebar")) return;
      const layout = el._fullLayout;
      if (!layout?.xaxis) return;
      const r = el.getBoundingClientRect();
      const xa = layout.xaxis, ya = layout.yaxis;
      const px = ev.clientX - r.left - xa._offset, py = ev.clientY - r.top - ya._offset;
      if (px < 0 || py < 0 || px > xa._length || py > ya._length) return;
      this.onPickRate(xa.p2d(px), ya.p2d(py));
    }, true);
  }
}
