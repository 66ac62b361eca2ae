// What the catalog declares, turned into the page's decisions. No DOM here, and no optimizer or
// surface names: capabilities are read from each optimizer's catalog entry (engine/capabilities.py),
// a surface's start, steps and step sizes from its own entry.

/** How a parameter is written in a label or a read-out (η, β, β1…): its catalog entry's symbol, "" for none. */
export function symbolOf(spec) {
  return spec?.symbol || "";
}

/** The capabilities an optimizer's catalog entry declares: { velocity, rate, beta, compiled }. */
export function capabilities(catalog, name) {
  return catalog.optimizers[name]?.capabilities || {};
}

/** Whether a run carries a velocity, so its step differs from −η∇f (the page draws it as a second arrow). */
export function hasVelocity(catalog, name, params) {
  const v = capabilities(catalog, name).velocity;
  return v === "always" || (!!v && Number(params?.[v]) > 0);
}

/** The first optimizer of the scene with a β (the (η, β) map's), with its index, or null. */
export function withBeta(catalog, optimizers) {
  const i = optimizers.findIndex((o) => capabilities(catalog, o.name).beta);
  return i < 0 ? null : { index: i, opt: optimizers[i], beta: capabilities(catalog, optimizers[i].name).beta };
}

/** The first optimizer in the catalog with a β: what an (η, β) map sweeps when the scene has none. */
export function firstBetaOptimizer(catalog) {
  return Object.values(catalog.optimizers).find((o) => o.capabilities?.beta) || null;
}

/**
 * The scene with surface `name` picked: its default parameters, start, steps and view, and each
 * optimizer's step size for that surface (the optimizer's other parameters are kept).
 */
export function applySurface(scene, catalog, name) {
  const entry = catalog.surfaces[name];
  const sizes = entry.step_sizes || {};
  return {
    ...scene,
    surface: name,
    surfaceParams: {},
    formula: "",
    view: null,
    start: entry.default_start ? [...entry.default_start] : scene.start,
    steps: entry.default_steps || scene.steps,
    optimizers: scene.optimizers.map((o) => {
      const size = sizes[o.name];
      if (!size) return { name: o.name, params: { ...o.params } };
      // A second run of the same optimizer keeps its step's ratio to the first's, so the runs stay distinct.
      const first = scene.optimizers.find((q) => q.name === o.name);
      const ratio = first === o || !(first.params.lr > 0) ? 1 : o.params.lr / first.params.lr;
      return { name: o.name, params: { ...o.params, lr: Number((size * ratio).toPrecision(3)) } };
    }),
  };
}

function show(v) {
  if (typeof v !== "number") return String(v);
  return String(Number(v.toPrecision(3)));
}

/**
 * A label per run: its number and title, plus the parameters in which it differs from another run
 * of the same optimizer (η, β, schedule, batch size, seed…), so two runs never share a label.
 */
export function runLabels(catalog, optimizers) {
  return optimizers.map((o, i) => {
    const title = catalog.optimizers[o.name]?.title || o.name;
    const same = optimizers.filter((q) => q.name === o.name);
    if (same.length < 2) return `${i + 1}. ${title}`;
    const keys = Object.keys(o.params).filter((k) => same.some((q) => q.params[k] !== o.params[k]));
    const specs = catalog.optimizers[o.name]?.params || [];
    const parts = keys.map((k) => {
      const sym = symbolOf(specs.find((p) => p.name === k));
      return sym ? `${sym}=${show(o.params[k])}` : show(o.params[k]); // a schedule is named by its value
    });
    return `${i + 1}. ${title}${parts.length ? ` (${parts.join(", ")})` : ""}`;
  });
}
