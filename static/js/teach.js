// Teaching: embed links and the Embed snippet, Record (the race as a file), and present mode.
//
// It drives the page only through its buttons (#play-btn, #reset-btn, the lesson menu) and the
// live state main.js publishes (window.lossLab), so the wiring in main.js stays as it was.

import { PARTS, PLOT_PARTS, displayFromHash, displayHash, iframeSnippet, shownParts } from "./display.js";
import { display as chartDisplay } from "./charts/common.js";

const $ = (sel) => document.querySelector(sel);
/** Type and marks in present mode, against the page's. */
const PRESENT_SCALE = 1.6;
const LABELS = { header: "title bar", lesson: "lesson text", controls: "controls", player: "Play / Step / Reset",
  contour: "contour", loss: "loss plot", "3d": "3D surface", runs: "runs table", views: "lesson plots" };

let ctx = null; // { app, toast, download }
let autoplayed = false;

/** Show the parts the hash asks for; called at start and on every hash change. */
export function applyDisplay() {
  const d = displayFromHash(location.hash);
  ctx.app.display = d;
  const shown = shownParts(d);
  const fill = Boolean(d.embed || d.present);
  document.body.classList.toggle("embed", Boolean(d.embed) && !d.present);
  document.body.classList.toggle("present", d.present);
  document.body.classList.toggle("fill", fill);
  document.body.classList.toggle("no-controls", !shown.includes("controls"));
  document.body.classList.toggle("no-lesson", !shown.includes("lesson"));
  for (const el of document.querySelectorAll("[data-part]")) el.classList.toggle("part-hidden", !shown.includes(el.dataset.part));
  const plots = PLOT_PARTS.filter((p) => shown.includes(p)).length || 1;
  document.body.style.setProperty("--fill-cols", String(Math.min(plots, 3)));
  document.body.style.setProperty("--fill-rows", String(Math.ceil(plots / 3)));
  $("#present-hint").hidden = !d.present;
  const scale = d.present ? PRESENT_SCALE : 1;
  if (chartDisplay.scale !== scale) {
    chartDisplay.scale = scale;
    ctx.app.redraw?.();
  }
  // Plotly sizes a responsive plot from its box: tell it the boxes changed.
  requestAnimationFrame(() => window.dispatchEvent(new Event("resize")));
}

/** The display flags the URL carries now, as a hash suffix (main.js appends it to every link it writes). */
export function displaySuffix() {
  return displayHash(displayFromHash(location.hash));
}

function setDisplay(change) {
  const d = { ...ctx.app.display, ...change };
  history.replaceState(null, "", location.hash.replace(/&(embed|hide|present)=[^&]*/g, "") + displayHash(d));
  applyDisplay();
}

// --- embed ----------------------------------------------------------------------

function snippetParts() {
  return [...document.querySelectorAll("#embed-parts input:checked")].map((el) => el.value);
}

function updateSnippet() {
  const app = ctx.app;
  const title = `Loss Lab: ${app.catalog?.surfaces[app.scene.surface]?.title || app.scene.surface}`;
  const parts = snippetParts();
  const text = iframeSnippet(location.href, parts, { width: Number($("#embed-width").value) || 960,
    height: Number($("#embed-height").value) || 540, title });
  $("#embed-snippet").value = text;
  $("#embed-preview").href = new DOMParser().parseFromString(text, "text/html").querySelector("iframe").src;
}

function wireEmbed() {
  const box = $("#embed-parts");
  for (const p of PARTS) {
    const id = `embed-part-${p}`;
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" id="${id}" value="${p}"> ${LABELS[p]}`;
    label.querySelector("input").checked = ["contour", "loss", "player"].includes(p);
    box.append(label);
  }
  box.addEventListener("change", updateSnippet);
  for (const id of ["#embed-width", "#embed-height"]) $(id).addEventListener("input", updateSnippet);
  $("#embed-btn").addEventListener("click", () => {
    updateSnippet();
    $("#embed-dialog").showModal();
    $("#embed-snippet").select();
  });
  $("#embed-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("#embed-snippet").value);
      ctx.toast("Snippet copied: paste it into the course page");
    } catch {
      $("#embed-snippet").select();
      ctx.toast("Select the snippet and copy it (Ctrl+C)");
    }
  });
}

/** An embedded figure plays once on its own, when its runs are first drawn complete (then body[data-played]). */
function autoplay(ev) {
  if (autoplayed) {
    if (!document.body.dataset.played && $("#play-btn").getAttribute("aria-label") === "Play") {
      document.body.dataset.played = "true";
    }
    return;
  }
  if (!ctx.app.display?.embed || !ev.detail?.complete || !ctx.app.store) return;
  autoplayed = true;
  $("#reset-btn").click();
  $("#play-btn").click();
}

// --- record ---------------------------------------------------------------------

async function record() {
  const btn = $("#record-btn");
  const format = $("#record-format").value;
  btn.disabled = true;
  btn.textContent = "● Recording…";
  document.body.dataset.recording = "true";
  // The page plays the race while the server draws the same frames (losslab.render).
  $("#reset-btn").click();
  $("#play-btn").click();
  try {
    const res = await fetch("/api/render", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ link: location.hash, format, fps: 30, width: 1280, height: 720 }),
    });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.message || `the server answered ${res.status}`);
    }
    const blob = await res.blob();
    const name = `losslab-race.${format}`;
    ctx.download(name, blob, blob.type);
    ctx.toast(`Saved ${name}: ${res.headers.get("x-losslab-frames")} frames of 1280×720 at 30 fps`);
  } catch (e) {
    ctx.toast(`Could not record: ${e.message}`);
  } finally {
    btn.disabled = false;
    btn.textContent = "● Record";
    delete document.body.dataset.recording;
  }
}

async function wireRecord() {
  $("#record-btn").addEventListener("click", record);
  const info = await fetch("/api/render").then((r) => r.json()).catch(() => null);
  if (!info?.available) {
    $("#record-btn").disabled = true;
    $("#record-btn").title = info?.message || "This server cannot render";
  }
}

// --- present --------------------------------------------------------------------

/**
 * Next (+1) or Back (−1): the open lesson's next step through the page's step API (lossLab.lessonStep,
 * false past the lesson's ends), else (a page without one) the link's step=N; past a lesson's ends,
 * or without a lesson, the next or previous lesson in the menu.
 */
export function presentStep(delta) {
  const app = ctx.app;
  if (typeof app.lessonStep === "function") {
    if (app.lessonStep(delta)) return;
  } else if (/(^#|&)step=\d+/.test(location.hash)) {
    const m = location.hash.match(/(^#|&)step=(\d+)/);
    const n = Math.max(1, Number(m[2]) + delta);
    location.hash = location.hash.replace(/(^#|&)step=\d+/, `$1step=${n}`);
    return;
  }
  const lessons = app.lessons || [];
  if (!lessons.length) return;
  const i = lessons.findIndex((l) => l.id === app.scene.lesson);
  const j = i < 0 ? (delta > 0 ? 0 : lessons.length - 1) : i + delta;
  if (j < 0 || j >= lessons.length) return;
  const sel = $("#lesson-select");
  sel.value = lessons[j].id;
  sel.dispatchEvent(new Event("change"));
}

function onKey(ev) {
  if (!ctx.app.display?.present || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  if (ev.target.closest?.("input, select, textarea, [contenteditable]")) return;
  if (["ArrowRight", "PageDown", " "].includes(ev.key)) presentStep(+1);
  else if (["ArrowLeft", "PageUp"].includes(ev.key)) presentStep(-1);
  else if (ev.key === "Escape") setDisplay({ present: false });
  else return;
  ev.preventDefault();
}

// --- start ----------------------------------------------------------------------

/** Wire the teaching features (main.js's app, and its toast and download helpers). */
export function initTeach({ app, toast, download }) {
  ctx = { app, toast, download };
  applyDisplay();
  wireEmbed();
  wireRecord();
  $("#present-btn").addEventListener("click", () => setDisplay({ present: true }));
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", applyDisplay);
  window.addEventListener("losslab:rendered", autoplay);
}
