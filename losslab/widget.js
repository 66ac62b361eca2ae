// scene.widget()'s front end (anywidget): the contour with every run's path, the loss against
// iteration, and a step-size and momentum slider per optimizer. A slider sends the optimizers'
// parameters to the kernel ("params"); the kernel runs the engine and sends the paths back ("runs").

const W = 380, H = 380, LW = 300, LH = 220, STEPS = 1000;
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/** Slider position (0…STEPS) ↔ value, on a log scale for step sizes (as the page's sliders). */
function scaleOf(s) {
  if (s.log) {
    const a = Math.log10(s.min), b = Math.log10(s.max);
    return { toValue: (p) => Number((10 ** (a + ((b - a) * p) / STEPS)).toPrecision(3)),
      toPos: (v) => Math.round(((Math.log10(Math.max(v, s.min)) - a) / (b - a)) * STEPS) };
  }
  return { toValue: (p) => Number((s.min + ((s.max - s.min) * p) / STEPS).toPrecision(4)),
    toPos: (v) => Math.round(((v - s.min) / (s.max - s.min)) * STEPS) };
}

function hexRgb(c) {
  const m = c.match(/^#?([0-9a-f]{6})$/i);
  if (m) { const n = parseInt(m[1], 16); return [(n >> 16) & 255, (n >> 8) & 255, n & 255]; }
  return (c.match(/\d+/g) || [0, 0, 0]).slice(0, 3).map(Number);
}

function colour(scale, t) {
  for (let i = 1; i < scale.length; i++) {
    if (t <= scale[i][0] || i === scale.length - 1) {
      const [t0, c0] = scale[i - 1], [t1, c1] = scale[i];
      const u = t1 > t0 ? Math.min(1, Math.max(0, (t - t0) / (t1 - t0))) : 0;
      const a = hexRgb(c0), b = hexRgb(c1);
      return a.map((v, k) => Math.round(v + (b[k] - v) * u));
    }
  }
  return [0, 0, 0];
}

function paintContour(canvas, surface) {
  const z = surface.z, ny = z.length, nx = z[0].length;
  let lo = Infinity, hi = -Infinity;
  for (const row of z) for (const v of row) if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  canvas.width = nx;
  canvas.height = ny;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(nx, ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const v = z[j][i], k = ((ny - 1 - j) * nx + i) * 4; // row 0 is y min: drawn at the bottom
      const [r, g, b] = v === null ? [255, 255, 255] : colour(surface.colorscale, hi > lo ? (v - lo) / (hi - lo) : 0.5);
      img.data.set([r, g, b, 255], k);
    }
  }
  ctx.putImageData(img, 0, 0);
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "losslab-widget";
  root.innerHTML = `<div class="ll-title"></div>
    <div class="ll-row">
      <figure><figcaption>Contour and trajectories</figcaption>
        <div class="ll-contour" style="width:${W}px;height:${H}px"><canvas></canvas></div></figure>
      <figure><figcaption>Loss against iteration</figcaption><div class="ll-loss"></div></figure>
    </div>
    <div class="ll-controls"></div><div class="ll-error" role="status"></div>`;
  el.append(root);
  const surface = model.get("surface");
  root.querySelector(".ll-title").textContent = surface.title;
  const canvas = root.querySelector("canvas");
  paintContour(canvas, surface);
  const [x0, x1, y0, y1] = surface.view;
  const px = (x) => ((x - x0) / (x1 - x0)) * W, py = (y) => H - ((y - y0) / (y1 - y0)) * H;
  const plot = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "ll-paths" });
  root.querySelector(".ll-contour").append(plot);
  const loss = svg("svg", { width: LW, height: LH, viewBox: `0 0 ${LW} ${LH}`, class: "ll-loss-plot" });
  root.querySelector(".ll-loss").append(loss);

  function drawRuns() {
    const runs = model.get("runs"), controls = model.get("controls"), start = model.get("start");
    plot.replaceChildren();
    for (const m of surface.minima) {
      plot.append(svg("path", { d: `M${px(m[0]) - 6},${py(m[1]) - 6}l12,12m0,-12l-12,12`, stroke: "white", "stroke-width": 3, class: "ll-minimum" }));
    }
    runs.forEach((r, i) => {
      const pts = r.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
      plot.append(svg("polyline", { points: pts, fill: "none", stroke: controls[i].color, "stroke-width": 2.5,
        "stroke-linejoin": "round", "data-run": i, class: "ll-path" }));
      const [ex, ey] = r.points[r.points.length - 1];
      plot.append(svg("circle", { cx: px(ex), cy: py(ey), r: 5.5, fill: controls[i].color, stroke: "white", "stroke-width": 2 }));
    });
    const sx = px(start[0]), sy = py(start[1]);
    const star = Array.from({ length: 10 }, (_, k) => {
      const a = (Math.PI / 5) * k - Math.PI / 2, rr = k % 2 ? 4 : 10;
      return `${(sx + rr * Math.cos(a)).toFixed(1)},${(sy + rr * Math.sin(a)).toFixed(1)}`;
    }).join(" ");
    plot.append(svg("polygon", { points: star, fill: "#ffd166", stroke: "#1f2933", "stroke-width": 1.2 }));
    // The loss: log₁₀ when every loss is positive, as on the page.
    loss.replaceChildren();
    const all = runs.flatMap((r) => r.losses);
    const log = all.length && all.every((v) => v > 0);
    const f = (v) => (log ? Math.log10(v) : v);
    const vals = all.map(f).filter(Number.isFinite);
    const lo = Math.min(...vals), hi = Math.max(...vals), n = Math.max(1, ...runs.map((r) => r.losses.length - 1));
    const lx = (k) => 10 + (k / n) * (LW - 20), ly = (v) => LH - 24 - ((f(v) - lo) / (hi - lo || 1)) * (LH - 44);
    loss.append(svg("rect", { x: 10, y: 20, width: LW - 20, height: LH - 44, fill: "white", stroke: "#dfe3ea" }));
    const label = svg("text", { x: 10, y: 13, class: "ll-axis" });
    label.textContent = `${log ? "log₁₀ loss" : "loss"}: ${fmt(log ? 10 ** hi : hi)} … ${fmt(log ? 10 ** lo : lo)}`;
    const xl = svg("text", { x: LW - 10, y: LH - 6, class: "ll-axis", "text-anchor": "end" });
    xl.textContent = `iteration 0 … ${n}`;
    loss.append(label, xl);
    runs.forEach((r, i) => {
      const pts = r.losses.map((v, k) => (Number.isFinite(f(v)) ? `${lx(k).toFixed(1)},${ly(v).toFixed(1)}` : null)).filter(Boolean).join(" ");
      loss.append(svg("polyline", { points: pts, fill: "none", stroke: controls[i].color, "stroke-width": 2 }));
    });
  }

  function buildControls() {
    const box = root.querySelector(".ll-controls");
    box.replaceChildren();
    const controls = model.get("controls");
    model.get("params").forEach((p, i) => {
      const card = document.createElement("div");
      card.className = "ll-opt";
      card.style.borderLeftColor = controls[i].color;
      card.innerHTML = `<div class="ll-opt-name">${controls[i].label}</div>`;
      for (const s of controls[i].sliders) {
        const scale = scaleOf(s);
        const row = document.createElement("label");
        row.className = "ll-slider";
        row.innerHTML = `<span>${s.label}</span><input type="range" min="0" max="${STEPS}" step="1"
          data-opt="${i}" data-param="${s.name}" aria-label="${controls[i].label}: ${s.label}"><output></output>`;
        const input = row.querySelector("input"), out = row.querySelector("output");
        input.value = scale.toPos(p[s.name]);
        out.textContent = fmt(p[s.name]);
        input.addEventListener("input", () => {
          const v = scale.toValue(Number(input.value));
          out.textContent = fmt(v);
          const params = model.get("params").map((q) => ({ ...q }));
          params[i][s.name] = v;
          model.set("params", params);
          model.save_changes();
        });
        card.append(row);
      }
      box.append(card);
    });
  }

  buildControls();
  drawRuns();
  const onRuns = () => drawRuns();
  const onError = () => (root.querySelector(".ll-error").textContent = model.get("error"));
  model.on("change:runs", onRuns);
  model.on("change:error", onError);
  return () => { model.off("change:runs", onRuns); model.off("change:error", onError); };
}

export default { render };
