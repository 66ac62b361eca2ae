// Controls built from catalog parameter specs: one labelled, keyboard-usable control per parameter.

const SYMBOLS = { lr: "η", momentum: "β", beta1: "β1", beta2: "β2", alpha: "α", eps: "ε", lambda_1: "λ1", lambda_2: "λ2", rotation: "θ" };
const SLIDER_STEPS = 1000;

export function formatValue(v) {
  if (typeof v !== "number") return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/** Slider position ↔ value, on a log scale when the spec says so. */
export function sliderScale(spec) {
  const lo = spec.log ? Math.max(spec.min, Math.min(spec.default / 100, spec.max * 1e-4), 1e-12) : spec.min;
  const hi = spec.max;
  if (spec.log) {
    const a = Math.log10(lo), b = Math.log10(hi);
    return {
      toValue: (pos) => Number((10 ** (a + ((b - a) * pos) / SLIDER_STEPS)).toPrecision(3)),
      toPos: (v) => Math.round(((Math.log10(Math.max(v, lo)) - a) / (b - a)) * SLIDER_STEPS),
    };
  }
  return {
    toValue: (pos) => Number((lo + ((hi - lo) * pos) / SLIDER_STEPS).toPrecision(4)),
    toPos: (v) => Math.round(((v - lo) / (hi - lo)) * SLIDER_STEPS),
  };
}

let uid = 0;

/**
 * A labelled control for one parameter. `onInput(value)` fires while dragging,
 * so runs follow the slider live.
 */
export function paramControl(spec, value, onInput, { idPrefix = "p" } = {}) {
  const id = `${idPrefix}-${spec.name}-${uid++}`;
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
  slider.setAttribute("aria-valuetext", `${SYMBOLS[spec.name] || spec.name} = ${formatValue(value)}`);
  const out = document.createElement("output");
  out.htmlFor = id;
  const sym = SYMBOLS[spec.name];
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

/** Ticks under a slider for theory values (e.g. η_opt and 2η_opt). */
function setMarks(wrap, slider, scale, marks) {
  wrap.querySelector(".marks")?.remove();
  if (!marks?.length) return;
  const box = document.createElement("div");
  box.className = "marks";
  marks.forEach((m, i) => {
    const pos = scale.toPos(m.value) / SLIDER_STEPS;
    if (pos < 0 || pos > 1) return;
    const tick = document.createElement("span");
    tick.className = "mark";
    tick.style.left = `${pos * 100}%`;
    tick.textContent = m.label;
    tick.title = `${m.label} = ${formatValue(m.value)}`;
    tick.classList.toggle("low", i % 2 === 1); // alternate rows so close marks stay readable
    box.append(tick);
  });
  slider.parentElement.after(box);
}
