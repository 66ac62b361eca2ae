// Shared Plotly settings of every chart.

export const FONT = { family: "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#1f2933" };

/**
 * Plotly's config: a toolbar with only what serves the learner and nothing that sends data off the
 * machine (no "Edit in Chart Studio", no cloud share, no link). `zoom` adds drag-to-zoom and "reset
 * axes" on plots without click handlers; the contour has none, so a click there always moves the start.
 * `three` gives a 3D plot its rotate and reset-camera buttons.
 */
export function plotConfig(filename, { zoom = false, three = false } = {}) {
  const buttons = ["toImage"];
  if (zoom) buttons.push("zoom2d", "resetScale2d");
  if (three) buttons.push("orbitRotation", "resetCameraDefault3d");
  return {
    displaylogo: false,
    responsive: true,
    showSendToCloud: false,
    showEditInChartStudio: false,
    showLink: false,
    scrollZoom: false,
    modeBarButtons: [buttons],
    toImageButtonOptions: { format: "png", filename, scale: 2 },
  };
}

/** Hover boxes that are readable over any colour: opaque white with a dark border. */
export const HOVERLABEL = { bgcolor: "#ffffff", bordercolor: "#1f2933", font: { family: FONT.family, size: 12, color: "#1f2933" } };

export function hexToRgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

export const COLORSCALE = "Viridis";

/** How large every chart draws its type, lines and markers (present mode sets 1.6; see teach.js). */
export const display = { scale: 1 };

function scaleObject(o, keys, k) {
  if (!o) return o;
  const out = { ...o };
  for (const key of keys) if (typeof out[key] === "number") out[key] *= k;
  return out;
}

/** Traces and layout with type, line widths and marker sizes multiplied by `k`. */
function scaled(traces, layout, k) {
  const t = traces.map((tr) => {
    const out = { ...tr, line: scaleObject(tr.line, ["width"], k), marker: scaleObject(tr.marker, ["size"], k) };
    if (tr.marker?.line) out.marker.line = scaleObject(tr.marker.line, ["width"], k);
    for (const key of ["line", "marker"]) if (out[key] === undefined) delete out[key];
    return out;
  });
  const l = { ...layout, font: scaleObject(layout.font, ["size"], k) };
  if (layout.annotations) l.annotations = layout.annotations.map((a) => scaleObject(a, ["arrowwidth"], k));
  return [t, l];
}

const DATA_KEYS = ["x", "y", "z", "customdata"];

function skeleton(trace) {
  const rest = {};
  for (const k of Object.keys(trace)) if (!DATA_KEYS.includes(k)) rest[k] = trace[k];
  return JSON.stringify(rest);
}

/** The same data: the same array, or a short one (a marker, a start point) with the same values. */
function sameData(a, b) {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length || a.length > 16) return false;
  return a.every((v, i) => v === b[i]);
}

/**
 * Plotly.react, or, when only the data of some traces changed, Plotly.update of just those.
 *
 * react recomputes every trace whenever any changes: on the contour plot that is the
 * 120 × 120 contour's levels (~35 ms here) to move a few trajectories (~2 ms). update
 * (restyle) recomputes only the traces it is given. Structure (trace count, styles,
 * layout apart from annotations) must match the last draw; otherwise this is react.
 */
export function draw(el, traces, layout, config) {
  if (display.scale !== 1) [traces, layout] = scaled(traces, layout, display.scale);
  const prev = el.__losslab;
  const { annotations, ...rest } = layout;
  const layoutKey = JSON.stringify(rest);
  const keys = traces.map(skeleton);
  const annotationsKey = JSON.stringify(annotations || []);
  el.__losslab = { layoutKey, keys, annotationsKey, traces };
  const same = prev && el.data && el.data.length === traces.length && prev.layoutKey === layoutKey &&
    keys.every((k, i) => k === prev.keys[i]);
  if (!same) return Plotly.react(el, traces, layout, config);
  const idx = [];
  const update = Object.fromEntries(DATA_KEYS.map((k) => [k, []]));
  traces.forEach((t, i) => {
    const p = prev.traces[i];
    if (DATA_KEYS.every((k) => sameData(t[k], p[k]))) return;
    idx.push(i);
    // undefined leaves an attribute as it is; a trace that lost an attribute changed its skeleton.
    for (const k of DATA_KEYS) update[k].push(t[k]);
  });
  const layoutUpdate = annotationsKey === prev.annotationsKey ? {} : { annotations: annotations || [] };
  if (!idx.length && !layoutUpdate.annotations) return Promise.resolve(el);
  for (const k of DATA_KEYS) if (update[k].every((v) => v === undefined)) delete update[k];
  return Plotly.update(el, update, layoutUpdate, idx);
}
