// Trajectories as they stream in, decimation for drawing, and export. No DOM here.

/** Most points a single trace draws; long runs are thinned for the plots, never for export. */
export const MAX_DRAWN = 1500;

export class RunStore {
  constructor(optimizers) {
    this.runs = optimizers.map((o) => ({
      optimizer: o.name,
      params: { ...o.params },
      xs: [], ys: [], losses: [], gradNorms: [],
      status: "running",
      stepsTaken: 0,
      chunks: 0, // chunk messages added (a replay from entry 0 can end at the same length with other points)
    }));
  }

  /** Append a `chunk` message: entries first, first + 1, … of run `msg.run`. */
  addChunk(msg) {
    const r = this.runs[msg.run];
    if (!r) return;
    r.xs.length = r.ys.length = r.losses.length = r.gradNorms.length = msg.first; // idempotent on replays
    for (let i = 0; i < msg.points.length; i++) {
      r.xs.push(msg.points[i][0]);
      r.ys.push(msg.points[i][1]);
      r.losses.push(msg.losses[i]);
      r.gradNorms.push(msg.grad_norms[i]);
    }
    r.stepsTaken = Math.max(0, r.xs.length - 1);
    r.chunks++;
  }

  finish(msg) {
    msg.runs.forEach((s, i) => {
      if (!this.runs[i]) return;
      this.runs[i].status = s.status;
      this.runs[i].stepsTaken = s.steps_taken;
    });
  }

  /** Longest trajectory so far, in steps. */
  get maxSteps() {
    return this.runs.reduce((m, r) => Math.max(m, r.xs.length - 1), 0);
  }

  toCSV() {
    const rows = ["run,optimizer,step,x,y,loss,grad_norm"];
    this.runs.forEach((r, i) => {
      for (let k = 0; k < r.xs.length; k++) {
        rows.push(`${i},${r.optimizer},${k},${r.xs[k]},${r.ys[k]},${r.losses[k]},${r.gradNorms[k]}`);
      }
    });
    return rows.join("\n") + "\n";
  }

  toJSON(scene) {
    return JSON.stringify({
      scene,
      runs: this.runs.map((r) => ({
        optimizer: r.optimizer, params: r.params, status: r.status, steps_taken: r.stepsTaken,
        points: r.xs.map((x, k) => [x, r.ys[k]]), losses: r.losses, grad_norms: r.gradNorms,
      })),
    }, null, 1);
  }
}

/**
 * Indices to draw of a trajectory of length n, up to entry `upto`: all of them when few,
 * otherwise an even thinning that always keeps the first and the last.
 */
export function drawIndices(n, upto = n - 1, max = MAX_DRAWN) {
  const last = Math.min(n - 1, upto);
  if (last < 0) return [];
  const count = last + 1;
  if (count <= max) return Array.from({ length: count }, (_, i) => i);
  const out = [];
  const stride = (count - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(Math.round(i * stride));
  return out;
}

export function pick(arr, idx) {
  return idx.map((i) => arr[i]);
}

/**
 * drawIndices and pick, remembered per run: while a run has no new points the chart gets the
 * very same arrays back, so redrawing it (after a theory update, say) costs no Plotly call at all.
 * `clear()` forgets everything, and the next draw builds every trace afresh.
 */
export class Decimator {
  constructor(max = MAX_DRAWN) {
    this.max = max;
    this.clear();
  }

  clear() {
    this.memo = new WeakMap();
  }

  /** `{ idx, pick(arr, f?) }` for run `r` (a RunStore run) drawn up to entry `upto`. */
  of(r, upto = Infinity) {
    const n = r.xs.length;
    let m = this.memo.get(r);
    if (!m || m.n !== n || m.upto !== upto) {
      m = { n, upto, idx: drawIndices(n, upto, this.max), picked: new Map() };
      m.pick = (arr, f = null) => {
        const byArr = m.picked.get(arr) || new Map();
        m.picked.set(arr, byArr);
        if (!byArr.has(f)) byArr.set(f, f ? m.idx.map((i) => f(arr[i])) : pick(arr, m.idx));
        return byArr.get(f);
      };
      this.memo.set(r, m);
    }
    return m;
  }
}

/** How a run's status reads in the table. */
export function describeStatus(run, live) {
  if (run.status === "converged") return `converged at step ${run.stepsTaken}`;
  // The runner keeps the first point past its bound (engine/runner.py's divergence rule): that step is the last.
  if (run.status === "diverged") return `diverged at step ${Math.max(1, run.stepsTaken)}`;
  if (run.status === "max_steps") return `still going after ${run.stepsTaken} steps`;
  return live ? `running… ${run.stepsTaken}` : "waiting";
}

/** Display transform of a loss surface: log10 of the height above the minimum when the range is wide. */
export function zTransform(zmin, zmax) {
  if (zmin === null || zmax === null) return { f: (z) => z, label: "loss", log: false };
  if (zmin >= 0 && zmax > 0 && zmax / Math.max(zmin, 1e-12) > 50) {
    const eps = Math.max((zmax - zmin) * 1e-6, 1e-12);
    return { f: (z) => (z === null ? null : Math.log10(Math.max(z - zmin, 0) + eps)), label: "log₁₀ loss", log: true };
  }
  return { f: (z) => z, label: "loss", log: false };
}

/**
 * Measured per-step contraction of the distance to the minimum at the origin (the quadratic):
 * the geometric mean over the last two thirds of the run, stopping before underflow.
 */
export function measuredRate(xs, ys) {
  const e = [];
  for (let k = 0; k < xs.length; k++) {
    const d = Math.hypot(xs[k], ys[k]);
    if (!(d > 1e-250)) break;
    e.push(d);
  }
  const skip = Math.floor(e.length / 3);
  if (e.length - 1 - skip < 3) return null;
  return (e[e.length - 1] / e[skip]) ** (1 / (e.length - 1 - skip));
}
