// Fair races: the Tune button, its Undo, and the panel that shows the protocol and how forgiving each optimizer is.
//
// Tune sends the scene on screen to POST /api/tune, keeps the race's settings for Undo, sets every
// optimizer's tuned η (and β) and re-runs the race. The panel shows the protocol (grid, budget,
// criterion), a table of before / tuned / steps / forgiveness / edge with the theory beside it, each
// optimizer's sensitivity curve, and for optimizers with momentum the measured (η, β) map beside the
// analytic one (quadratic); clicking a map sets that optimizer's sliders.

import { formatValue } from "./controls.js";
import { colorOf, surfaceSpec } from "./state.js";
import { drawCurve, drawMap, drawRateMap, installPick } from "./charts/tune.js";

/** The POST /api/tune body for a scene: its surface, race, start and budget; tol only if the scene has one. */
export function tuneRequest(scene, { ring = 0 } = {}) {
  const body = {
    surface: surfaceSpec(scene),
    optimizers: scene.optimizers.map((o) => ({ name: o.name, params: o.params })),
    start: scene.start, steps: scene.steps, seed: scene.seed, ring,
  };
  if (scene.tol > 0) body.tol = scene.tol;
  return body;
}

/** What a tuning depends on: when it changes, the tuning on screen no longer describes the scene. */
function sceneKey(scene) {
  return JSON.stringify([surfaceSpec(scene), scene.start, scene.steps, scene.optimizers.map((o) => o.name)]);
}

const fmt = (v) => (v === null || v === undefined ? "–" : formatValue(v));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function nearest(values, v, log) {
  let best = 0;
  const d = (a) => Math.abs(log ? Math.log(a) - Math.log(v) : a - v);
  values.forEach((a, i) => { if (d(a) < d(values[best])) best = i; });
  return values[best];
}

export class TunePanel {
  /**
   * @param {object} o
   * @param {HTMLElement} o.actionsHost where the Tune / Undo buttons go (the optimizers card)
   * @param {HTMLElement} o.panelHost the grid the panel card joins; o.before: the element it goes before
   * @param {() => object} o.scene the scene on screen; o.catalog: () => the catalogs
   * @param {(optimizers: object[]) => void} o.apply set the race's optimizers and re-run
   * @param {(body: object) => Promise<object>} o.fetchTune; o.toast: (text) => void
   */
  constructor({ actionsHost, panelHost, before, scene, catalog, apply, fetchTune, toast }) {
    Object.assign(this, { scene, catalog, apply, fetchTune, toast });
    this.result = null; // the last tuning's response
    this.undo = null; // the race's optimizers before it
    this.key = null;
    this.pending = null;

    const bar = document.createElement("div");
    bar.className = "tune-actions";
    bar.innerHTML = `
      <button id="tune-btn" type="button" title="Find every optimizer's best step size (and momentum) on this surface, from this start, and re-run the race">⚖ Tune the race</button>
      <button id="tune-undo" type="button" disabled title="Put back the settings from before Tune">Undo</button>
      <label class="tune-ring" title="Tune from 9 starts (this one and 8 on a ring around it) and use the median"><input id="tune-ring" type="checkbox"> ring of starts</label>`;
    actionsHost.append(bar);
    this.button = bar.querySelector("#tune-btn");
    this.undoButton = bar.querySelector("#tune-undo");
    this.ring = bar.querySelector("#tune-ring");
    this.button.addEventListener("click", () => this.tune());
    this.undoButton.addEventListener("click", () => this.restore());

    const card = document.createElement("section");
    card.className = "card tune-card";
    card.id = "tune-panel";
    card.hidden = true;
    card.setAttribute("aria-labelledby", "tune-heading");
    card.innerHTML = `
      <div class="card-head"><h2 id="tune-heading" class="caps">Tuned race</h2>
        <button type="button" class="icon" id="tune-close" aria-label="Close the tuning panel">×</button></div>
      <p class="tune-note" id="tune-note" role="status"></p>
      <p class="tune-protocol" id="tune-protocol"></p>
      <div class="tune-table-wrap"><table class="status-table tune-table" id="tune-table"></table></div>
      <div class="tune-theory" id="tune-theory"></div>
      <div class="tune-plots" id="tune-plots"></div>`;
    panelHost.insertBefore(card, before);
    this.card = card;
    card.querySelector("#tune-close").addEventListener("click", () => (card.hidden = true));
  }

  async tune() {
    const scene = this.scene();
    if (!scene.optimizers.length) return;
    const body = tuneRequest(scene, { ring: this.ring.checked ? 8 : 0 });
    const mine = (this.pending = {});
    this.button.disabled = true;
    this.button.textContent = "Tuning…";
    try {
      const result = await this.fetchTune(body);
      if (this.pending !== mine) return;
      const before = structuredClone(scene.optimizers);
      const after = scene.optimizers.map((o, i) => ({ name: o.name, params: { ...o.params, ...pick(result.optimizers[i]) } }));
      this.result = result;
      this.undo = before;
      this.key = sceneKey({ ...scene, optimizers: after });
      this.note = "";
      this.apply(after);
      this.card.hidden = false;
      this.render();
      this.toast("Tuned: the race re-runs with each optimizer's best setting; the protocol and curves are in the Tuned race panel. Undo puts the settings back.");
    } catch (e) {
      if (this.pending === mine) this.toast(`Tune: ${e.message}`);
    } finally {
      if (this.pending === mine) {
        this.pending = null;
        this.button.disabled = false;
        this.button.textContent = "⚖ Tune the race";
      }
    }
  }

  restore() {
    if (!this.undo) return;
    const before = this.undo;
    this.undo = null;
    this.note = "Undone: the race runs with its settings from before Tune again.";
    this.apply(before);
    this.render();
  }

  /** The scene changed (a slider, the start, the surface…): keep the panel's state in step. */
  sceneChanged() {
    if (!this.result) return;
    const scene = this.scene();
    // Undo only makes sense for the same race on the same scene.
    if (this.undo && sceneKey(scene) !== this.key) this.undo = null;
    this.render();
  }

  render() {
    this.undoButton.disabled = !this.undo;
    const r = this.result;
    if (!r || this.card.hidden) return;
    const scene = this.scene();
    const stale = sceneKey(scene) !== this.key;
    this.card.dataset.stale = stale ? "true" : "false";
    const note = this.card.querySelector("#tune-note");
    note.textContent = stale ? "The scene has changed since this tuning: press Tune again to tune it." : this.note || "";
    note.hidden = !note.textContent;
    this.card.querySelector("#tune-protocol").innerHTML = protocolText(r.protocol, scene, r.optimizers);
    this.card.querySelector("#tune-table").innerHTML = this.table(r);
    this.card.querySelector("#tune-theory").innerHTML = theoryText(r);
    this.plots(r, scene);
  }

  table(r) {
    const titles = this.catalog().optimizers;
    const head = `<thead><tr><th scope="col">Optimizer</th><th scope="col">Before</th><th scope="col">Tuned</th>
      <th scope="col" title="Median over the starts">Steps to tol</th>
      <th scope="col" title="The range of η around the tuned one within ${fmt(r.protocol.within)}× of its steps (or final loss): its end-to-end factor">Forgiving (${fmt(r.protocol.within)}× range of η)</th>
      <th scope="col" title="The smallest η above the tuned one that diverged">Divergence edge</th>
      <th scope="col" title="On the quadratic: theory's rate at the tuned setting and the steps it predicts">Theory: rate, steps</th></tr></thead>`;
    const rows = r.optimizers.map((t, i) => {
      const name = `<span class="swatch" style="background:${colorOf(i)}"></span>${i + 1}. ${esc(titles[t.name]?.title || t.name)}`;
      const setting = (lr, beta) => `η ${fmt(lr)}${beta === null || beta === undefined ? "" : `, β ${fmt(beta)}`}`;
      const before = setting(t.before.lr, t.beta === null ? null : t.before.momentum);
      const tuned = t.criterion === null ? "every setting diverged: kept" : setting(t.lr, t.beta);
      const steps = t.steps_to_tol !== null ? String(t.steps_to_tol) : t.criterion === "loss" ? `not reached (loss ${fmt(t.final_loss)})` : "–";
      const forg = t.forgiveness === null ? "–" : `×${fmt(t.forgiveness)} <span class="muted">(${fmt(t.within[0])} … ${fmt(t.within[1])})</span>`;
      const th = t.theory ? `${fmt(t.theory.rate)}, ${t.theory.steps === null ? "not within the budget" : t.theory.steps}` : "–";
      return `<tr data-optimizer="${esc(t.name)}"><td>${name}</td><td>${before}</td><td class="tuned">${tuned}</td><td>${steps}</td>
        <td>${forg}</td><td>${t.edge === null ? "none on the grid" : fmt(t.edge)}</td><td>${th}</td></tr>`;
    });
    return head + `<tbody>${rows.join("")}</tbody>`;
  }

  plots(r, scene) {
    const box = this.card.querySelector("#tune-plots");
    const titles = this.catalog().optimizers;
    const sig = JSON.stringify([r.protocol.steps, r.optimizers.map((t) => [t.name, !!t.map, !!t.map?.rate])]);
    if (box.dataset.sig !== sig || box.__result !== r) {
      box.dataset.sig = sig;
      box.__result = r;
      box.replaceChildren();
      r.optimizers.forEach((t, i) => {
        const fig = document.createElement("figure");
        fig.className = "tune-fig";
        fig.dataset.optimizer = t.name;
        const title = `${i + 1}. ${titles[t.name]?.title || t.name}`;
        const curveCap = t.beta === null ? "" : ` at β = ${fmt(t.beta)}`;
        let html = `<figcaption><span class="swatch" style="background:${colorOf(i)}"></span>${esc(title)}: ${t.criterion === "loss" ? "final loss" : "steps to tol"} against η${curveCap}</figcaption>
          <div class="plot tune-curve" id="tune-curve-${i}"></div>`;
        if (t.map) {
          html += `<div class="tune-maps"><div><div class="map-cap">measured, click to set η and β</div><div class="plot tune-map" id="tune-map-${i}"></div></div>`;
          if (t.map.rate) html += `<div><div class="map-cap">theory: rate per step</div><div class="plot tune-map" id="tune-rate-${i}"></div></div>`;
          html += `</div>`;
        }
        fig.innerHTML = html;
        box.append(fig);
        for (const el of fig.querySelectorAll(".tune-map")) installPick(el, (lr, beta) => this.pickCell(i, lr, beta));
      });
    }
    r.optimizers.forEach((t, i) => {
      drawCurve(box.querySelector(`#tune-curve-${i}`), t, r.protocol, colorOf(i));
      const o = scene.optimizers[i];
      const current = o && o.name === t.name && "momentum" in o.params ? { lr: o.params.lr, momentum: o.params.momentum } : null;
      const map = box.querySelector(`#tune-map-${i}`);
      if (map) drawMap(map, t, r.protocol, current);
      const rate = box.querySelector(`#tune-rate-${i}`);
      if (rate) drawRateMap(rate, t, r.protocol, current);
    });
  }

  /** A click on optimizer i's map: its η and β become the clicked grid cell's. */
  pickCell(i, lr, beta) {
    const scene = this.scene();
    const o = scene.optimizers[i];
    const p = this.result?.protocol;
    if (!o || !p || o.name !== this.result.optimizers[i].name) return;
    const optimizers = structuredClone(scene.optimizers);
    optimizers[i].params.lr = nearest(p.lrs, Math.max(lr, p.lrs[0]), true);
    optimizers[i].params.momentum = nearest(p.betas, Math.min(Math.max(beta, 0), p.betas[p.betas.length - 1]), false);
    this.apply(optimizers);
  }
}

/** The tuned parameters of one optimizer (η, and β where it has momentum); nothing when all diverged. */
function pick(t) {
  if (t.criterion === null) return {};
  return t.beta === null ? { lr: t.lr } : { lr: t.lr, momentum: t.beta };
}

function protocolText(p, scene, tuned) {
  const n = p.lrs.length, nb = p.betas.length;
  const starts = p.starts.length > 1
    ? `from (${p.starts[0].map(fmt).join(", ")}) and ${p.starts.length - 1} starts on a ring around it (radius ${fmt(p.ring_radius)} of the view); the median over the ${p.starts.length}`
    : `from (${p.starts[0].map(fmt).join(", ")})`;
  return `<b>Protocol.</b> Grid: η from ${fmt(p.lrs[0])} to ${fmt(p.lrs[n - 1])}, ${n} values log-spaced;
    for optimizers with momentum also β from ${fmt(p.betas[0])} to ${fmt(p.betas[nb - 1])}, ${nb} values (1 − β log-spaced).
    Budget: ${p.steps} steps per run ${starts}. Goal: ‖∇f‖ &lt; ${fmt(p.tol)}.
    Criterion: the fewest steps to the goal; a setting that diverges is never chosen; if no setting reaches the goal,
    the lowest final loss; ties go to the flatter spot (best worst neighbour), then the smaller η.
    On the curves ★ is the tuned setting, × diverged, ○ did not reach the goal (grey on the maps)${stoppedText(p, tuned)}.
    <span class="muted">Forgiving: how far η can move from the tuned value (end to end, as a factor) and stay within
    ${fmt(p.within)}× of its steps; the shaded band on each curve. The dashed line is the divergence edge.</span>`;
}

/** Runs stopped early (they could no longer be within 2× of the best): when, for the optimizers that stopped any. */
function stoppedText(p, tuned) {
  const stopped = tuned.filter((t) => t.stopped_at !== null).map((t) => `${esc(t.name)} at step ${t.stopped_at}`);
  return stopped.length ? `: within the budget, or before its run was stopped. A run still going once it can no longer
    come within ${fmt(p.within)}× of the best stops there (${stopped.join(", ")}); the tuned setting, forgiveness and edge are
    still those of every run to the budget` : " within the budget";
}

function theoryText(r) {
  const th = r.theory;
  if (!th || th.gd_best_lr === undefined) {
    const lam = th?.eigenvalues;
    return lam ? `<b>Theory.</b> The Hessian at the start has eigenvalues ${lam.map(fmt).join(", ")}: not positive definite, so the
      local quadratic model predicts no best step.` : "";
  }
  const gd = r.optimizers.find((t) => t.name === "gd" && t.lr !== null);
  const hb = r.optimizers.find((t) => t.name === "momentum" && t.lr !== null);
  const src = th.source === "quadratic"
    ? `On this quadratic (λ = ${th.eigenvalues.map(fmt).join(", ")}, κ = ${fmt(th.condition_number)})`
    : `The local quadratic model at the start (Hessian eigenvalues ${th.eigenvalues.map(fmt).join(", ")}) predicts`;
  const rows = [
    ["η_opt = 1/λ", th.eta_opt.map(fmt).join(", "), ""],
    ["GD: 2/(λmin + λmax)", fmt(th.gd_best_lr), gd ? `tuned GD: η ${fmt(gd.lr)}` : ""],
    ["2/λmax (GD diverges above)", fmt(th.gd_max_lr), gd ? `measured edge: ${fmt(gd.edge)}` : ""],
    ["heavy ball η*, β*", `${fmt(th.momentum_best_lr)}, ${fmt(th.momentum_best_beta)}`, hb ? `tuned momentum: η ${fmt(hb.lr)}, β ${fmt(hb.beta)}` : ""],
    ["rates (κ−1)/(κ+1), (√κ−1)/(√κ+1)", `${fmt(th.gd_rate)}, ${fmt(th.momentum_rate)}`,
      [gd?.theory && `GD ${fmt(gd.theory.rate)}`, hb?.theory && `momentum ${fmt(hb.theory.rate)}`].filter(Boolean).join(", ")
        .replace(/^(.)/, "at the tuned settings: $1")],
  ];
  return `<b>Theory.</b> ${src}:<table class="theory-table tune-theory-table"><tbody>${rows.map(([a, b, c]) =>
    `<tr><th scope="row">${a}</th><td>${b}</td><td class="muted">${c}</td></tr>`).join("")}</tbody></table>`;
}
