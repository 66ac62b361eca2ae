// The controls panel: the surface's controls (or the typed formula's), one card per optimizer with its
// sliders, and the fixed controls (steps, seed, tolerance, start, Play, exports, lessons), each wired
// to change the scene through the context's sceneChanged.

import { checkFormula } from "./api.js";
import { paramControl } from "./controls.js";
import { Player } from "./player.js";
import { CUSTOM, colorOf, normalizeParams, normalizeScene, validView } from "./state.js";
import { applySurface } from "./catalog.js";
import { $ } from "./page.js";

/**
 * The controls over a context { app, contour, player, lessons, toast, download } and the functions
 * sceneChanged, markSliders, openLesson, applyHash and hashOf (read when called).
 */
export function createControls(ctx) {
  const { app, contour, player, toast, download } = ctx;
  function buildSurfaceControls() {
    const entry = app.catalog.surfaces[app.scene.surface];
    $("#surface-select").value = app.scene.surface;
    $("#surface-description").textContent = entry.description;
    const box = $("#surface-params");
    if (app.scene.surface === CUSTOM) {
      box.replaceChildren(formulaControls(entry));
      return;
    }
    box.replaceChildren(...entry.params.map((spec) => paramControl(spec, app.scene.surfaceParams[spec.name], (v) => {
      app.scene.surfaceParams[spec.name] = v;
      ctx.sceneChanged({ grid: true });
    }, { idPrefix: "surface" })));
  }

  /** The typed formula, checked by the server as one types, with examples and the view box. */
  function formulaControls(entry) {
    const wrap = document.createElement("div");
    const spec = entry.params.find((p) => p.name === "formula");
    wrap.innerHTML = `
      <div class="field"><label for="formula-input">${spec.label}</label>
        <textarea id="formula-input" rows="2" maxlength="${spec.max_length}" spellcheck="false" autocomplete="off"
          aria-describedby="formula-status"></textarea>
        <div id="formula-status" class="formula-status" role="status"></div></div>
      <div class="field"><label for="formula-example">Examples</label><select id="formula-example"></select></div>
      <div class="field inline4">
        ${["x min", "x max", "y min", "y max"].map((l, i) => `<div><label for="view-${i}">${l}</label>
          <input id="view-${i}" type="number" step="0.5"></div>`).join("")}
      </div>`;
    const input = wrap.querySelector("#formula-input");
    const status = wrap.querySelector("#formula-status");
    input.value = app.scene.formula;
    input.title = spec.description;
    const examples = wrap.querySelector("#formula-example");
    examples.append(new Option("Pick an example…", ""));
    for (const ex of entry.examples || []) examples.append(new Option(ex.title, ex.formula));
    examples.addEventListener("change", () => {
      const ex = (entry.examples || []).find((e) => e.formula === examples.value);
      if (!ex) return;
      app.scene.formula = ex.formula;
      app.scene.view = [...ex.view];
      app.scene = normalizeScene(app.scene, app.catalog);
      buildControls();
      ctx.sceneChanged({ grid: true });
    });
    app.scene.view.forEach((v, i) => {
      const el = wrap.querySelector(`#view-${i}`);
      el.value = v;
      el.addEventListener("change", () => {
        const view = [...app.scene.view];
        view[i] = Number(el.value);
        const lim = entry.view_limits;
        if (!validView(view, lim)) {
          status.textContent = `The view needs x min < x max and y min < y max, spans of at least ${lim.min_span} and |values| ≤ ${lim.max}.`;
          status.dataset.state = "error";
          return;
        }
        app.scene.view = view;
        app.scene = normalizeScene(app.scene, app.catalog);
        ctx.sceneChanged({ grid: true });
      });
    });
    let timer = null, seq = 0;
    const check = async () => {
      const text = input.value;
      const mine = ++seq;
      try {
        const res = await checkFormula(text);
        if (mine !== seq) return;
        status.dataset.state = "ok";
        status.textContent = `∇f = (${res.gradient[0]}, ${res.gradient[1]})`;
        input.removeAttribute("aria-invalid");
        if (text !== app.scene.formula) {
          app.scene.formula = text;
          ctx.sceneChanged({ grid: true });
        }
      } catch (e) {
        if (mine !== seq) return;
        status.dataset.state = "error";
        const d = Array.isArray(e.detail) ? e.detail[0] : null;
        status.textContent = (d?.msg || e.message).replace(/^custom\.formula: /, "");
        input.setAttribute("aria-invalid", "true");
        const col = d?.ctx?.column;
        if (col && document.activeElement !== input) input.setSelectionRange(col - 1, col);
      }
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(check, 250);
    });
    check();
    return wrap;
  }

  function buildOptimizerCards() {
    const list = $("#optimizer-list");
    list.replaceChildren();
    app.scene.optimizers.forEach((opt, i) => {
      const spec = app.catalog.optimizers[opt.name];
      const card = document.createElement("div");
      card.className = "opt-card";
      card.style.setProperty("--opt-color", colorOf(i));
      const head = document.createElement("div");
      head.className = "opt-head";
      const selId = `opt-${i}-name`;
      head.innerHTML = `<span class="swatch" style="background:${colorOf(i)}"></span><label class="sr-only" for="${selId}">Optimizer ${i + 1}</label>`;
      const sel = document.createElement("select");
      sel.id = selId;
      for (const o of Object.values(app.catalog.optimizers)) sel.append(new Option(o.title, o.name, false, o.name === opt.name));
      sel.addEventListener("change", () => {
        app.scene.optimizers[i] = { name: sel.value, params: normalizeParams(app.catalog.optimizers[sel.value].params, {}) };
        ctx.sceneChanged({ rebuild: true });
      });
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "icon remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `Remove optimizer ${i + 1}`);
      remove.id = `opt-${i}-remove`;
      remove.title = "Remove this optimizer";
      remove.disabled = app.scene.optimizers.length <= 1;
      remove.addEventListener("click", () => {
        app.scene.optimizers.splice(i, 1);
        contour.clearGhosts();
        const n = app.scene.optimizers.length;
        // Focus the next card's remove button (or the previous one's, or its selector when it is the last).
        ctx.sceneChanged({ rebuild: true, focus: [`opt-${Math.min(i, n - 1)}-remove`, `opt-${Math.min(i, n - 1)}-name`] });
      });
      head.append(sel, remove);
      const formula = document.createElement("div");
      formula.className = "formula";
      formula.textContent = spec.formula;
      card.append(head, formula);
      for (const p of spec.params) {
        if (p.name === "seed" || p.name === "decay_every" && opt.params.schedule !== "step") continue;
        if (p.name === "batch_size" && !app.catalog.surfaces[app.scene.surface].is_data) continue;
        card.append(paramControl(p, opt.params[p.name], (v) => {
          opt.params[p.name] = v;
          ctx.sceneChanged({ rebuild: p.name === "schedule" });
        }, { idPrefix: `opt-${i}` }));
      }
      list.append(card);
    });
    $("#add-optimizer").disabled = app.scene.optimizers.length >= app.catalog.scene.limits.optimizers;
    ctx.markSliders();
  }

  /**
   * Rebuild the controls and keep keyboard focus where it was: on the control with the same id,
   * else on the nearest one that still exists (`fallbacks`, in order), never on the page's body.
   */
  function buildControls(fallbacks = []) {
    const active = document.activeElement;
    const had = active && active !== document.body && active.closest?.(".controls") ? active.id : null;
    buildSurfaceControls();
    buildOptimizerCards();
    if (had) {
      const el = [had, ...fallbacks].map((id) => id && document.getElementById(id)).find((e) => e && !e.disabled);
      (el || $("#add-optimizer")).focus();
    }
    $("#steps-input").value = app.scene.steps;
    $("#seed-input").value = app.scene.seed;
    $("#tol-input").value = app.scene.tol;
    $("#start-x").value = app.scene.start[0];
    $("#start-y").value = app.scene.start[1];
  }

  function wireStaticControls() {
    const sel = $("#surface-select");
    for (const s of Object.values(app.catalog.surfaces)) sel.append(new Option(s.name === CUSTOM ? "Your own formula…" : s.title, s.name));
    sel.addEventListener("change", () => {
      // The surface's own start, steps, view and step sizes (its catalog entry), as one consistent scene.
      app.scene = normalizeScene(applySurface(app.scene, app.catalog, sel.value), app.catalog);
      app.grid = null; // the old contour is not drawn under the new runs
      contour.clearGhosts();
      player.pause();
      player.cursor = null;
      ctx.sceneChanged({ grid: true, rebuild: true });
    });
    $("#add-optimizer").addEventListener("click", () => {
      const used = new Set(app.scene.optimizers.map((o) => o.name));
      const next = Object.keys(app.catalog.optimizers).find((n) => !used.has(n)) || "gd";
      app.scene.optimizers.push({ name: next, params: normalizeParams(app.catalog.optimizers[next].params, {}) });
      ctx.sceneChanged({ rebuild: true });
    });
    const intInput = (el, key, [lo, hi]) => el.addEventListener("change", () => {
      const v = Math.round(Number(el.value));
      if (!Number.isFinite(v)) return;
      app.scene[key] = Math.min(hi, Math.max(lo, v));
      el.value = app.scene[key];
      ctx.sceneChanged();
    });
    const limits = app.catalog.scene.limits;
    for (const [id, key] of [["#steps-input", "steps"], ["#seed-input", "seed"]]) {
      Object.assign($(id), { min: limits[key][0], max: limits[key][1] });
      intInput($(id), key, limits[key]);
    }
    const tol = $("#tol-input");
    Object.assign(tol, { min: limits.tol[0], max: limits.tol[1] });
    tol.addEventListener("change", () => {
      const v = Number(tol.value);
      if (!Number.isFinite(v) || tol.value.trim() === "") return;
      app.scene.tol = Math.min(limits.tol[1], Math.max(limits.tol[0], v));
      tol.value = app.scene.tol;
      ctx.sceneChanged();
    });
    for (const [id, k] of [["#start-x", 0], ["#start-y", 1]]) {
      $(id).addEventListener("change", () => {
        const v = Number($(id).value);
        if (!Number.isFinite(v)) return;
        app.scene.start[k] = v;
        app.scene = normalizeScene(app.scene, app.catalog);
        buildControls();
        ctx.sceneChanged();
      });
    }
    const maxSteps = () => (app.store ? app.store.maxSteps : 0);
    maxSteps.done = () => !app.running;
    $("#play-btn").addEventListener("click", () => (player.playing ? player.pause() : player.play(maxSteps)));
    $("#step-btn").addEventListener("click", () => player.step(maxSteps));
    $("#reset-btn").addEventListener("click", () => player.reset());
    const speed = $("#speed-input");
    speed.value = Player.sliderFromSpeed(player.speed);
    const showSpeed = () => ($("#speed-output").textContent = `${player.speed} steps/s`);
    showSpeed();
    speed.addEventListener("input", () => {
      player.speed = Player.speedFromSlider(Number(speed.value));
      showSpeed();
    });
    $("#export-csv").addEventListener("click", () => download("losslab-trajectories.csv", app.store?.toCSV() ?? "", "text/csv"));
    $("#export-json").addEventListener("click", () => download("losslab-trajectories.json", app.store?.toJSON(app.scene) ?? "{}", "application/json"));
    $("#share-btn").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(location.href);
        toast("Link copied: it reproduces this exact scene");
      } catch {
        toast(location.href);
      }
    });
    $("#lesson-select").addEventListener("change", (ev) => ctx.openLesson(ev.target.value));
    $("#lesson-close").addEventListener("click", () => {
      app.scene.lesson = "";
      $("#lesson-select").value = "";
      ctx.lessons.close();
      buildControls();
      ctx.sceneChanged({ grid: true });
      $("#lesson-select").focus(); // the closed panel's button is gone: focus the nearest control
    });
    // A new link opened on this page (or edited by hand) replaces the whole state, as a fresh load would.
    window.addEventListener("hashchange", () => {
      if (location.hash === ctx.hashOf()) return;
      ctx.applyHash(location.hash);
    });
  }

  return { buildControls, wireStaticControls };
}
