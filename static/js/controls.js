// Controls built from catalog parameter specs: one labelled, keyboard-usable control per parameter.

import { symbolOf } from "./catalog.js";

const SLIDER_STEPS = 1000;

export function formatValue(v) {
  if (typeof v !== "number") return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/** Round to `digits` significant digits. */
function round(v, digits) {
  return Number(v.toPrecision(digits));
}

/**
 * Slider position (0 … SLIDER_STEPS) ↔ value, on the scale the spec declares (`scale`):
 * "log" (step sizes, ε), "log1m" (momenta: log of 1 − value, so equal steps resolve 0.9, 0.99
 * and 0.999) or "linear". Every position gives a value inside [min, max] (an open min excluded).
 */
export function sliderScale(spec) {
  const kind = spec.scale || (spec.log ? "log" : "linear");
  const clamp = (v) => Math.min(spec.max, Math.max(spec.min, v));
  if (kind === "log") {
    const lo = Math.max(spec.min, Math.min(spec.default / 100, spec.max * 1e-4), 1e-12);
    const a = Math.log10(lo), b = Math.log10(spec.max);
    return {
      toValue: (pos) => clamp(round(10 ** (a + ((b - a) * pos) / SLIDER_STEPS), 3)),
      toPos: (v) => Math.round(((Math.log10(Math.max(v, lo)) - a) / (b - a)) * SLIDER_STEPS),
    };
  }
  if (kind === "log1m") {
    // u = 1 − value runs from 1 − min down to 1 − max, evenly in log u; u keeps two significant
    // digits, so the positions around each decade all give 0.9, 0.99 or 0.999 exactly.
    const a = Math.log10(1 - spec.min), b = Math.log10(1 - spec.max);
    return {
      toValue: (pos) => (pos <= 0 ? spec.min : pos >= SLIDER_STEPS ? spec.max
        : clamp(round(1 - round(10 ** (a + ((b - a) * pos) / SLIDER_STEPS), 2), 12))),
      toPos: (v) => Math.round(((Math.log10(Math.max(1 - Math.min(v, spec.max), 1 - spec.max)) - a) / (b - a)) * SLIDER_STEPS),
    };
  }
  const lo = spec.min, hi = spec.max;
  return {
    toValue: (pos) => clamp(round(lo + ((hi - lo) * pos) / SLIDER_STEPS, 4)),
    toPos: (v) => Math.round(((v - lo) / (hi - lo)) * SLIDER_STEPS),
  };
}

/**
 * A labelled control for one parameter. `onInput(value)` fires while dragging,
 * so runs follow the slider live.
 */
export function paramControl(spec, value, onInput, { idPrefix = "p" } = {}) {
  // Stable ids (one control per parameter and prefix): focus can find its control again after a rebuild.
  const id = `${idPrefix}-${spec.name}`;
  const wrap = document.createElement("div");
  wrap.className = "field param";
  wrap.dataset.param = spec.name;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = spec.label || spec.name;
  label.title = spec.description || "";
  wrap.append(label);

  if (spec.kind === "choice") {
    const sel = document.createElement("select");
    sel.id = id;
    for (const c of spec.choices) sel.append(new Option(c, c, false, c === value));
    sel.addEventListener("change", () => onInput(sel.value));
    wrap.append(sel);
    return wrap;
  }

  if (spec.kind === "int") {
    const num = document.createElement("input");
    Object.assign(num, { type: "number", id, min: spec.min, max: spec.max, step: 1, value });
    num.addEventListener("change", () => {
      const v = Math.round(Number(num.value));
      if (Number.isFinite(v)) onInput(Math.min(spec.max, Math.max(spec.min, v)));
    });
    wrap.append(num);
    return wrap;
  }

  const row = document.createElement("div");
  row.className = "slider-row";
  const scale = sliderScale(spec);
  const slider = document.createElement("input");
  Object.assign(slider, { type: "range", id, min: 0, max: SLIDER_STEPS, step: 1 });
  slider.value = scale.toPos(value);
  slider.setAttribute("aria-valuetext", `${symbolOf(spec) || spec.label || spec.name} = ${formatValue(value)}`);
  const out = document.createElement("output");
  out.htmlFor = id;
  const sym = symbolOf(spec);
  const show = (v) => {
    out.textContent = sym ? `${sym} = ${formatValue(v)}` : formatValue(v);
    slider.setAttribute("aria-valuetext", out.textContent);
  };
  show(value);
  slider.addEventListener("input", () => {
    const v = scale.toValue(Number(slider.value));
    show(v);
    onInput(v);
  });
  row.append(slider, out);
  wrap.append(row);
  wrap.setMarks = (marks) => setMarks(wrap, slider, scale, marks);
  return wrap;
}

/**
 * Ticks under a slider for theory's values (e.g. 1/λmax and 2/λmax), each labelled with its value.
 * Marks too close to share a row go to the next row, so no two labels overlap.
 */
function setMarks(wrap, slider, scale, marks) {
  wrap.querySelector(".marks")?.remove();
  if (!marks?.length) return;
  const box = document.createElement("div");
  box.className = "marks";
  const placed = marks
    .map((m) => ({ ...m, pos: scale.toPos(m.value) / SLIDER_STEPS }))
    .filter((m) => m.pos >= 0 && m.pos <= 1)
    .sort((a, b) => a.pos - b.pos);
  const rowEnds = []; // per row: the right edge (in track fractions) of its last label
  for (const m of placed) {
    const text = `${m.label} = ${formatValue(m.value)}`;
    const half = (text.length * 0.6 * 10.5) / 2 / Math.max(120, slider.clientWidth || 200); // label half-width as a fraction
    let row = rowEnds.findIndex((end) => m.pos - half > end + 0.02);
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = m.pos + half;
    const tick = document.createElement("span");
    tick.className = "mark";
    tick.dataset.value = String(m.value);
    tick.style.left = `${m.pos * 100}%`;
    tick.style.top = `${row * 14 + 2}px`;
    tick.style.setProperty("--row", row);
    tick.textContent = text;
    tick.title = `${m.title || m.label} = ${formatValue(m.value)}`;
    box.append(tick);
  }
  box.style.height = `${rowEnds.length * 14 + 4}px`;
  slider.parentElement.after(box);
}
