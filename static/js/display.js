// How much of the page a link shows: embed/hide/present flags in the URL hash. No DOM here.
//
//   #…&embed=contour,loss        only these parts, filling the frame (for an <iframe> in a course page)
//   #…&hide=controls,3d          the whole page less these parts
//   #…&present=1                 projector mode: one figure, large type and marks, ←/→ through the lesson
//
// The scene itself (state.js) does not know these flags: a link is the scene's hash plus displayHash().

/** Every part a link can show or hide, in the page's order. */
export const PARTS = ["header", "lesson", "controls", "player", "contour", "loss", "3d", "runs", "views"];
/** What `embed` alone (or `embed=1`) shows. */
export const EMBED_DEFAULT = ["contour", "loss", "player"];
/** What present mode shows: one figure, with the lesson's text and the player. */
export const PRESENT_PARTS = ["lesson", "player", "contour"];
/** The plot cards among the parts (they share the frame's width; "views" are a lesson's extra plots). */
export const PLOT_PARTS = ["contour", "loss", "3d", "runs", "views"];

function partList(text) {
  const names = decodeURIComponent(text || "").split(/[,\s]+/).map((s) => s.trim().toLowerCase());
  return PARTS.filter((p) => names.includes(p));
}

/** The display flags of a hash: { embed: parts | null, hide: parts, present: bool }. */
export function displayFromHash(hash) {
  const out = { embed: null, hide: [], present: false };
  for (const part of (hash || "").replace(/^#/, "").split("&")) {
    const i = part.indexOf("=");
    const key = i < 0 ? part : part.slice(0, i);
    const value = i < 0 ? "" : part.slice(i + 1);
    if (key === "embed") out.embed = value === "" || value === "1" ? [...EMBED_DEFAULT] : partList(value);
    else if (key === "hide") out.hide = partList(value);
    else if (key === "present") out.present = value !== "0";
  }
  if (out.embed && !out.embed.length) out.embed = [...EMBED_DEFAULT];
  return out;
}

/** The hash suffix that carries the flags ("" when the whole page shows). */
export function displayHash(d) {
  if (!d) return "";
  let s = "";
  if (d.embed) s += `&embed=${d.embed.join(",")}`;
  if (d.hide?.length) s += `&hide=${d.hide.join(",")}`;
  if (d.present) s += "&present=1";
  return s;
}

/** The parts shown: present mode's, else the embed list (or every part) less the hidden ones. */
export function shownParts(d) {
  const base = d.present ? PRESENT_PARTS : d.embed || PARTS;
  return base.filter((p) => !d.hide.includes(p));
}

/** An <iframe> snippet that shows `parts` of the scene at `href` (the page's link), `width` × `height`. */
export function iframeSnippet(href, parts, { width = 960, height = 540, title = "Loss Lab" } = {}) {
  const base = href.split("#")[0];
  const hash = (href.split("#")[1] || "").split("&").filter((p) => !/^(embed|hide|present)(=|$)/.test(p)).join("&");
  const src = `${base}#${hash}${displayHash({ embed: parts.length ? parts : EMBED_DEFAULT, hide: [] })}`;
  const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<iframe src="${esc(src)}" width="${Math.round(width)}" height="${Math.round(height)}" ` +
    `style="border:0;max-width:100%" title="${esc(title)}" loading="lazy"></iframe>`;
}
