// Text panels: the theory numbers of the open scene.

import { formatValue } from "./controls.js";

function row(label, value, title = "") {
  return `<tr title="${title}"><th scope="row">${label}</th><td>${value}</td></tr>`;
}

export function renderTheory(el, theory) {
  const rows = [];
  const q = theory.quadratic;
  if (q) {
    rows.push(row("λ1, λ2", `${formatValue(q.eigenvalues[0])}, ${formatValue(q.eigenvalues[1])}`, "Eigenvalues of A: the curvature along each eigenvector"));
    rows.push(row("κ = λmax/λmin", formatValue(q.condition_number), "Condition number: how elongated the bowl is"));
    rows.push(row("η_opt = 1/λ", `${formatValue(q.eta_opt[0])}, ${formatValue(q.eta_opt[1])}`, "One step to the minimum along that eigendirection"));
    rows.push(row("2/λmax", formatValue(q.gd_max_lr), "Largest stable GD step: above it GD diverges"));
    rows.push(row("best GD η, rate", `${formatValue(q.gd_best_lr)}, ${formatValue(q.gd_rate)}`, "η = 2/(λmin+λmax) converges at (κ−1)/(κ+1) per step"));
    rows.push(row("best momentum η*, β*", `${formatValue(q.momentum_best_lr)}, ${formatValue(q.momentum_best_beta)}`, "Optimal heavy ball"));
    rows.push(row("its rate", formatValue(q.momentum_rate), "(√κ−1)/(√κ+1) per step"));
  }
  const p = theory.point;
  if (p) {
    const [a, b] = p.hessian.eigenvalues;
    const where = `(${p.point.map((v) => formatValue(v)).join(", ")})`;
    rows.push(row(`Hessian eigenvalues at ${where}`, `${formatValue(a)}, ${formatValue(b)}`, "Negative: the surface curves down that way"));
    rows.push(row("there", p.hessian.kind));
  }
  el.innerHTML = rows.length ? `<h3>Theory</h3><table class="theory-table">${rows.join("")}</table>` : "";
}
