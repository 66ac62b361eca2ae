// The whole scene as one plain object that round-trips to the URL hash. No DOM here.
//
// Hash format (human-readable, so a teacher can edit a link by hand):
//   #s=quadratic:lambda_1=1,lambda_2=10,rotation=30
//   &o=gd:lr=0.15|momentum:lr=0.2,momentum=0.3
//   &start=-1.5,2&steps=100&seed=0&tol=0.0001&lesson=…

// Okabe & Ito's colour-blind-safe palette (the 8 colours of Color Universal Design), ordered so the
// first runs get the colours that stand out best on the contour; a run's colour is its index's.
export const PALETTE = ["#d55e00", "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#f0e442", "#000000"];

export const CUSTOM = "custom";

// The scene's defaults and limits have one home, the server (engine/defaults.py, GET /api/scene):
// catalog.scene = { defaults, limits } as api.js's loadCatalog gives it. No literal here.

/** Clamp and coerce one parameter value against its catalog spec. */
export function coerceParam(spec, value) {
  if (spec.kind === "choice") return spec.choices.includes(value) ? value : spec.default;
  let v = Number(value);
  if (!Number.isFinite(v)) return spec.default;
  if (spec.kind === "int") v = Math.round(v);
  const lo = spec.min_exclusive ? spec.min + Number.EPSILON : spec.min;
  return Math.min(spec.max, Math.max(lo, v));
}

/** Fill defaults and drop unknown parameters, so any state the page holds is valid. */
export function normalizeParams(specs, params) {
  const out = {};
  for (const spec of specs) {
    if (spec.kind === "text") continue; // the custom surface's formula lives in scene.formula
    out[spec.name] = coerceParam(spec, params?.[spec.name] ?? spec.default);
  }
  return out;
}

function clampInt(v, [lo, hi], fallback) {
  const n = Math.round(Number(v));
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : fallback;
}

/** A tolerance in range; a scene without one (a lesson's) takes the default. */
export function clampTol(v, [lo, hi], fallback) {
  if (v === undefined || v === null) return fallback;
  const t = Number(v);
  return Number.isFinite(t) ? Math.min(hi, Math.max(lo, t)) : fallback;
}

/** A scene checked against the catalogs: every name known, every number in range. */
export function normalizeScene(scene, catalog) {
  const { defaults, limits } = catalog.scene;
  const surfaces = catalog.surfaces;
  const surf = surfaces[scene.surface] ? scene.surface : defaults.surface;
  const opts = (scene.optimizers || [])
    .filter((o) => catalog.optimizers[o.name])
    .slice(0, limits.optimizers)
    .map((o) => ({ name: o.name, params: normalizeParams(catalog.optimizers[o.name].params, o.params) }));
  let formula = "", customView = null;
  if (surf === CUSTOM) {
    const entry = surfaces[surf];
    formula = typeof scene.formula === "string" && scene.formula.trim() && scene.formula.length <= limits.formula
      ? scene.formula : entry.params.find((p) => p.name === "formula")?.default ?? "x**2 + y**2";
    const v = (scene.view || []).map(Number);
    customView = validView(v, entry.view_limits) ? v : [...entry.view];
  }
  const view = customView || surfaces[surf].view;
  const start = (scene.start || []).map(Number);
  const okStart = start.length === 2 && start.every(Number.isFinite);
  return {
    surface: surf,
    surfaceParams: normalizeParams(surfaces[surf].params, scene.surfaceParams),
    optimizers: opts.length ? opts : [],
    start: okStart ? clampStart(start, view) : [(view[0] + view[1]) / 2, (view[2] + view[3]) / 2],
    steps: clampInt(scene.steps, limits.steps, defaults.steps),
    seed: clampInt(scene.seed, limits.seed, defaults.seed),
    tol: clampTol(scene.tol, limits.tol, defaults.tol),
    lesson: typeof scene.lesson === "string" ? scene.lesson : "",
    formula,
    view: customView,
  };
}

/** A custom view the server accepts: |c| ≤ max and spans of at least min_span (from the catalog). */
export function validView(v, limits = { max: 1000, min_span: 0.001 }) {
  return Array.isArray(v) && v.length === 4 && v.every(Number.isFinite) && v.every((c) => Math.abs(c) <= limits.max) &&
    v[1] - v[0] >= limits.min_span && v[3] - v[2] >= limits.min_span;
}

/** The surface part of a request: a catalog surface with its params, or a typed formula with its view. */
export function surfaceSpec(scene) {
  if (scene.surface === CUSTOM) return { name: CUSTOM, formula: scene.formula, view: scene.view };
  return { name: scene.surface, params: scene.surfaceParams };
}

/** Keep the start inside the view enlarged by its size (what the server accepts). */
export function clampStart([x, y], [x0, x1, y0, y1]) {
  const w = x1 - x0, h = y1 - y0;
  return [Math.min(x1 + w, Math.max(x0 - w, x)), Math.min(y1 + h, Math.max(y0 - h, y))];
}

function fmt(v) {
  return typeof v === "number" ? String(Number(v.toPrecision(12))) : encodeURIComponent(v);
}

function encodeParams(params) {
  return Object.entries(params).map(([k, v]) => `${k}=${fmt(v)}`).join(",");
}

function decodeParams(text) {
  const out = {};
  if (!text) return out;
  for (const pair of text.split(",")) {
    const i = pair.indexOf("=");
    if (i <= 0) continue;
    const raw = decodeURIComponent(pair.slice(i + 1));
    const num = Number(raw);
    out[pair.slice(0, i)] = raw !== "" && Number.isFinite(num) ? num : raw;
  }
  return out;
}

function splitNamed(text) {
  const i = text.indexOf(":");
  return i < 0 ? [text, ""] : [text.slice(0, i), text.slice(i + 1)];
}

export function toHash(scene) {
  const parts = [
    `s=${scene.surface}:${encodeParams(scene.surfaceParams)}`,
    `o=${scene.optimizers.map((o) => `${o.name}:${encodeParams(o.params)}`).join("|")}`,
    `start=${scene.start.map(fmt).join(",")}`,
    `steps=${scene.steps}`,
    `seed=${scene.seed}`,
    `tol=${fmt(scene.tol)}`,
  ];
  if (scene.surface === CUSTOM) {
    parts.push(`f=${encodeURIComponent(scene.formula)}`);
    if (scene.view) parts.push(`view=${scene.view.map(fmt).join(",")}`);
  }
  if (scene.lesson) parts.push(`lesson=${encodeURIComponent(scene.lesson)}`);
  return "#" + parts.join("&");
}

/** Parse a hash into a (not yet normalized) scene; missing parts fall back to the default scene. */
export function fromHash(hash, catalog) {
  const DEFAULT_SCENE = catalog.scene.defaults;
  const text = (hash || "").replace(/^#/, "");
  if (!text) return structuredClone(DEFAULT_SCENE);
  const fields = {};
  for (const part of text.split("&")) {
    const i = part.indexOf("=");
    if (i > 0) fields[part.slice(0, i)] = part.slice(i + 1);
  }
  const scene = structuredClone(DEFAULT_SCENE);
  if (fields.s) {
    const [name, params] = splitNamed(fields.s);
    scene.surface = name;
    scene.surfaceParams = decodeParams(params);
  }
  if (fields.o !== undefined) {
    scene.optimizers = fields.o.split("|").filter(Boolean).map((t) => {
      const [name, params] = splitNamed(t);
      return { name, params: decodeParams(params) };
    });
  }
  if (fields.start) scene.start = fields.start.split(",").map(Number);
  if (fields.steps) scene.steps = Number(fields.steps);
  if (fields.seed) scene.seed = Number(fields.seed);
  if (fields.tol) scene.tol = Number(fields.tol);
  scene.lesson = fields.lesson ? decodeURIComponent(fields.lesson) : "";
  if (fields.f !== undefined) scene.formula = decodeURIComponent(fields.f);
  if (fields.view) scene.view = fields.view.split(",").map(Number);
  return scene;
}

/** The POST /api/run (and WS /ws/run) body for a scene. */
export function runRequest(scene) {
  return {
    surface: surfaceSpec(scene),
    optimizers: scene.optimizers.map((o) => ({ name: o.name, params: o.params })),
    start: scene.start,
    steps: scene.steps,
    tol: scene.tol,
    seed: scene.seed,
  };
}

/** Colour of the i-th optimizer: stable while others are added or removed after it. */
export function colorOf(i) {
  return PALETTE[i % PALETTE.length];
}
