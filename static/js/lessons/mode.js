// Lesson mode: a lesson's steps, one at a time, beside the contour.
//
// A step shows its text (numbers filled in by the server for the scene on screen), the one
// or two controls it asks the learner to touch (with their slider marks), an optional
// prediction revealed by running, the claims it makes (and whether they still hold), each
// run's label and note, and its panels. main.js wires it with a few hooks; everything this
// module shows comes from POST /api/lessons/{id}/steps/{n}.

import { paramControl } from "../controls.js";
import { colorOf } from "../state.js";
import * as lecture from "./lecture_panels.js";
import { RENDERERS as BASE_RENDERERS, TITLES as BASE_TITLES, installRateClick } from "./panels.js";

// Lessons 10–13's panels come from their own module (lecture_panels.js).
const RENDERERS = { ...BASE_RENDERERS, ...lecture.RENDERERS };
const TITLES = { ...BASE_TITLES, ...lecture.TITLES };

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

/** The step of a `#lesson=ID&step=N` hash (1 when absent). */
export function stepFromHash(hash) {
  const m = /(?:^#|&)step=(\d+)/.exec(hash || "");
  return m ? Math.max(1, Number(m[1])) : 1;
}

/** A step's text with each {name} replaced by the computed value, marked so the eye (and tests) find it. */
export function fillText(text, values) {
  return esc(text).replace(/\{(\w+)\}/g, (_, k) =>
    `<b class="num" data-value="${k}">${values && k in values ? esc(values[k]) : "…"}</b>`);
}

/** Panels that depend on the animation's current point, so are asked for again as it moves. */
const POINT_PANELS = ["taylor", "hessian", "backprop", ...lecture.POINT_PANELS];

export class LessonMode {
  /**
   * hooks: loadScene(scene) applies a step's scene; setParam(run, name, value) changes one setting
   * (run null: the surface's); request() gives the scene's run request; cursor() the animation's;
   * play() starts the animation; onLabels() asks for a redraw when the run labels change.
   */
  constructor({ panel, side, catalog, hooks }) {
    this.panel = panel;
    this.side = side;
    this.catalog = catalog;
    this.hooks = hooks;
    this.lesson = null;
    this.n = 1;
    this.result = null;
    this.seq = 0;
    this.timer = null;
    this.choice = null;
    this.revealed = false;
    this.sawPlay = false;
    this.controls = [];
  }

  get active() {
    return this.lesson !== null;
  }

  get step() {
    return this.lesson?.steps[this.n - 1] ?? null;
  }

  /** `&step=N` for the URL hash while a lesson is open. */
  hashSuffix() {
    return this.lesson ? `&step=${this.n}` : "";
  }

  /** Run labels from the server ("GD η = 0.5"), or null before it answered. */
  labels() {
    return this.result?.runs?.map((r) => r.label) ?? null;
  }

  /** Open a lesson at step n; `load` false keeps the scene on screen (a shared link's own scene). */
  open(lesson, n = 1, { load = true } = {}) {
    this.lesson = lesson;
    this.n = Math.min(Math.max(1, n), lesson.steps.length);
    this.result = null;
    this.choice = null;
    this.revealed = false;
    this.sawPlay = false;
    document.body.classList.add("lesson-mode");
    this.panel.hidden = false;
    this.side.hidden = false;
    this.renderFrame();
    if (load) this.hooks.loadScene(structuredClone(this.step.scene));
  }

  close() {
    this.lesson = null;
    this.result = null;
    document.body.classList.remove("lesson-mode");
    this.panel.hidden = true;
    this.side.hidden = true;
    this.side.replaceChildren();
  }

  go(n) {
    if (!this.lesson) return;
    const had = document.activeElement?.classList?.contains("step-back") ? ".step-back" : ".step-next";
    this.open(this.lesson, n);
    // Keep the keyboard where it was: on Next (or Back), or on the other one at either end.
    const body = this.panel.querySelector("#lesson-body");
    const target = body.querySelector(`${had}:not([disabled])`) || body.querySelector(".step-nav button:not([disabled])");
    target?.focus();
  }

  // --- the frame of a step: title, navigation, text, controls, prediction, panels ---------------

  renderFrame() {
    const { lesson, step, n } = this;
    const total = lesson.steps.length;
    const dots = lesson.steps.map((s, i) =>
      `<a class="step-dot${i + 1 === n ? " current" : ""}" href="#lesson=${lesson.id}&step=${i + 1}" title="${esc(s.title)}"
        ${i + 1 === n ? 'aria-current="step"' : ""}>${i + 1}</a>`).join("");
    this.panel.querySelector("#lesson-title").textContent = `${lesson.number}. ${lesson.title}`;
    this.panel.querySelector("#lesson-body").innerHTML = `
      <nav class="step-nav" aria-label="Steps of this lesson">
        <button type="button" class="step-back" ${n === 1 ? "disabled" : ""}>← Back</button>
        <span class="step-dots">${dots}</span>
        <span class="step-count">step ${n} of ${total}</span>
        <button type="button" class="step-next primary" ${n === total ? "disabled" : ""}>Next →</button>
      </nav>
      <h3 class="step-title">${esc(step.title)}</h3>
      <div class="step-text">${step.text.map((t) => `<p>${fillText(t, null)}</p>`).join("")}</div>
      <div class="step-controls"></div>
      ${step.prediction ? this.predictionHTML(step.prediction) : ""}
      <ul class="claims" aria-label="What the runs on screen show"></ul>
      ${lesson.conventions.map((c) => `<p class="convention">${esc(c)}</p>`).join("")}`;
    const body = this.panel.querySelector("#lesson-body");
    body.querySelector(".step-back").addEventListener("click", () => this.go(n - 1));
    body.querySelector(".step-next").addEventListener("click", () => this.go(n + 1));
    body.querySelectorAll(".step-dot").forEach((a, i) => a.addEventListener("click", (ev) => { ev.preventDefault(); this.go(i + 1); }));
    body.querySelectorAll(".prediction input").forEach((input) => input.addEventListener("change", () => {
      this.choice = Number(input.value);
      this.revealed = false;
      this.sawPlay = false;
      this.renderPrediction();
      this.hooks.play();
    }));
    body.querySelector(".prediction .reveal")?.addEventListener("click", () => { this.revealed = true; this.renderPrediction(); });
    this.renderPanelsFrame();
  }

  predictionHTML(p) {
    return `<fieldset class="prediction"><legend>Predict, then run: ${esc(p.question)}</legend>
      ${p.choices.map((c, i) => `<label class="choice" data-choice="${i}"><input type="radio" name="prediction" value="${i}"> ${esc(c)}</label>`).join("")}
      <p class="verdict" aria-live="polite">Pick one: the runs play and show the answer.</p>
      <button type="button" class="reveal small">Just show me</button></fieldset>`;
  }

  /** Controls of the step, built once per scene (rebuilding while a slider is dragged would drop the drag). */
  buildControls(scene) {
    const box = this.panel.querySelector(".step-controls");
    if (!box || !this.step) return;
    this.controls = [];
    box.replaceChildren();
    for (const c of this.step.controls) {
      let spec, value;
      if (c.run === null) {
        spec = this.catalog.surfaces[scene.surface]?.params.find((p) => p.name === c.param);
        value = scene.surfaceParams[c.param];
      } else {
        const o = scene.optimizers[c.run];
        spec = o && this.catalog.optimizers[o.name].params.find((p) => p.name === c.param);
        value = o?.params[c.param];
      }
      if (!spec || value === undefined) continue;
      const el = paramControl(spec, value, (v) => this.hooks.setParam(c.run, c.param, v), { idPrefix: `lesson-${c.run ?? "s"}` });
      el.classList.add("step-control");
      el.dataset.run = c.run ?? "surface";
      const label = el.querySelector("label");
      if (c.run !== null) {
        label.innerHTML = `<span class="swatch" style="background:${colorOf(c.run)}"></span><span class="run-name">run ${c.run + 1}</span>: ${esc(spec.label || spec.name)}`;
      }
      box.append(el);
      this.controls.push({ ...c, el });
    }
    this.applyMarks();
  }

  applyMarks() {
    for (const c of this.controls) {
      if (!c.el.setMarks) continue;
      const marks = c.run === null ? [] : (this.result?.runs?.[c.run]?.marks || []).filter((m) => m.param === c.param);
      c.el.setMarks(marks);
      const name = c.el.querySelector(".run-name");
      const label = this.result?.runs?.[c.run]?.label;
      if (name && label) name.textContent = label;
    }
  }

  renderPanelsFrame() {
    this.side.replaceChildren();
    for (const name of this.step.panels) {
      const card = document.createElement("figure");
      card.className = "card plot-card view-card";
      card.dataset.view = name;
      card.innerHTML = `<figcaption>${TITLES[name] || name}</figcaption><div class="plot view-plot"></div>`;
      this.side.append(card);
      if (name === "rate_map") installRateClick(card.querySelector(".plot"), (lr, beta) => this.pickRate(lr, beta));
    }
    const runs = document.createElement("section");
    runs.className = "card lesson-runs";
    runs.innerHTML = `<table class="status-table lesson-runs-table"><thead><tr><th scope="col">Run</th>
      <th scope="col">What it did (computed for this scene)</th></tr></thead><tbody></tbody></table>`;
    this.side.append(runs);
  }

  pickRate(lr, beta) {
    const scene = this.hooks.scene();
    // The map is the heavy ball's: the run it sets is the one whose catalog entry declares that theory and a β.
    const caps = (o) => this.catalog.optimizers[o.name]?.capabilities || {};
    const i = scene.optimizers.findIndex((o) => caps(o).rate === "heavy_ball" && caps(o).beta);
    if (i < 0) return;
    const name = caps(scene.optimizers[i]).beta;
    const spec = this.catalog.optimizers[scene.optimizers[i].name].params.find((p) => p.name === name);
    this.hooks.setParams(i, { lr: Number(lr.toPrecision(3)),
      [name]: Math.min(spec.max, Math.max(spec.min, Number(beta.toPrecision(3)))) });
  }

  // --- the server's answer for the scene on screen ----------------------------------------------

  /** Ask again for the step's numbers (debounced); `cursorOnly` when only the animation moved. */
  refresh({ cursorOnly = false } = {}) {
    if (!this.lesson) return;
    if (cursorOnly) {
      // While the animation plays: at most one request every 120 ms (a debounce would wait for it to stop).
      if (!this.step.panels.some((p) => POINT_PANELS.includes(p)) || this.timer) return;
      this.timer = setTimeout(() => { this.timer = null; this.fetch(); }, 120);
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; this.fetch(); }, 60);
  }

  async fetch() {
    if (!this.lesson) return;
    const mine = ++this.seq;
    const { id } = this.lesson, n = this.n;
    const body = { ...this.hooks.request(), cursor: this.hooks.cursor() };
    try {
      const res = await fetch(`/api/lessons/${encodeURIComponent(id)}/steps/${n}`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      });
      const data = await res.json();
      if (mine !== this.seq || !this.lesson || this.lesson.id !== id || this.n !== n) return;
      if (!res.ok) throw new Error(data.message || `HTTP ${res.status}`);
      const labelsChanged = JSON.stringify(this.labels()) !== JSON.stringify(data.runs.map((r) => r.label));
      this.result = data;
      this.renderResult();
      if (labelsChanged) this.hooks.onLabels();
    } catch (e) {
      if (mine === this.seq) this.hooks.toast?.(`Lesson: ${e.message}`);
    }
  }

  renderResult() {
    const r = this.result;
    const body = this.panel.querySelector("#lesson-body");
    body.querySelector(".step-text").innerHTML = this.step.text.map((t) => `<p>${fillText(t, r.values)}</p>`).join("");
    body.querySelector(".claims").innerHTML = r.claims.map((c) =>
      `<li class="claim" data-holds="${c.holds}">${c.holds ? "✓" : "✗"} ${esc(c.text)}${c.holds ? "" : " <em>(not with these settings)</em>"}</li>`).join("");
    this.applyMarks();
    this.renderPrediction();
    // The runs' table first: it takes its height from its rows, the panels get the rest.
    const tbody = this.side.querySelector(".lesson-runs-table tbody");
    if (tbody) tbody.innerHTML = r.runs.map((run, i) => `<tr data-run="${i}"><td><span class="swatch" style="background:${colorOf(i)}"></span>${i + 1}. ${esc(run.label)}</td>
      <td class="note">${esc(run.note)}</td></tr>`).join("");
    const colors = r.runs.map((_, i) => colorOf(i));
    for (const [name, data] of Object.entries(r.panels)) {
      const el = this.side.querySelector(`.view-card[data-view="${name}"] .plot`);
      if (el && data) {
        el.dataset.step = `${r.lesson}#${r.step}`;
        RENDERERS[name](el, data, { colors, names: this.labels() });
      }
    }
    this.panel.dataset.evaluated = `${r.lesson}#${r.step}`;
  }

  renderPrediction() {
    const box = this.panel.querySelector(".prediction");
    if (!box) return;
    const answer = this.result?.answer;
    const choices = this.step.prediction.choices;
    box.querySelectorAll(".choice").forEach((el) => {
      const i = Number(el.dataset.choice);
      el.dataset.state = !this.revealed ? (i === this.choice ? "chosen" : "") : i === answer ? "right" : i === this.choice ? "wrong" : "";
      el.querySelector("input").checked = i === this.choice;
    });
    const v = box.querySelector(".verdict");
    if (!this.revealed) v.textContent = this.choice === null ? "Pick one: the runs play and show the answer." : "Watch the runs…";
    else if (answer === null || answer === undefined) v.textContent = "With these settings none of the choices describes the runs.";
    else v.textContent = `${this.choice === answer ? "Right" : this.choice === null ? "Answer" : "Not quite"}: the runs on screen say “${choices[answer]}”.`;
    box.dataset.revealed = String(this.revealed);
  }

  /** Every animation frame: a prediction is revealed once the runs it asked about have played to the end. */
  onFrame({ playing, cursor }) {
    if (!this.lesson || this.choice === null || this.revealed) return;
    if (playing) this.sawPlay = true;
    else if (this.sawPlay && cursor === null) {
      this.revealed = true;
      this.renderPrediction();
    }
  }
}
