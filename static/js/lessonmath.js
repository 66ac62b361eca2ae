// Closed forms the lesson views draw next to the measured runs. No DOM here.

/** Error along each eigenvector of the rotated quadratic: e1 along (cos θ, sin θ), e2 along (−sin θ, cos θ). */
export function eigenErrors(xs, ys, rotationDeg) {
  const t = (rotationDeg * Math.PI) / 180, c = Math.cos(t), s = Math.sin(t);
  return {
    e1: xs.map((x, k) => c * x + s * ys[k]),
    e2: xs.map((x, k) => -s * x + c * ys[k]),
  };
}

/** GD on a quadratic: e_i(k) = (1 − ηλ_i)^k e_i(0). */
export function gdPrediction(e0, lr, lambda, steps) {
  return Array.from({ length: steps + 1 }, (_, k) => (1 - lr * lambda) ** k * e0);
}

/** The lecture's output losses and their derivatives for target d, over outputs y in (0, 1). */
export function outputLossCurves(n = 199) {
  const ys = Array.from({ length: n }, (_, i) => (i + 1) / (n + 1));
  const curves = {};
  for (const d of [0, 1]) {
    curves[`ce${d}`] = ys.map((y) => -(d * Math.log(y) + (1 - d) * Math.log(1 - y)));
    curves[`dce${d}`] = ys.map((y) => -d / y + (1 - d) / (1 - y));
    curves[`l2${d}`] = ys.map((y) => 0.5 * (y - d) ** 2);
    curves[`dl2${d}`] = ys.map((y) => y - d);
  }
  return { ys, curves };
}

/** Second-order model f + gᵀd + ½ dᵀHd around p, on a grid (what a Newton step jumps to the centre of). */
export function taylorGrid(xs, ys, p, f, g, h) {
  return ys.map((y) => xs.map((x) => {
    const dx = x - p[0], dy = y - p[1];
    return f + g[0] * dx + g[1] * dy + 0.5 * (h[0][0] * dx * dx + 2 * h[0][1] * dx * dy + h[1][1] * dy * dy);
  }));
}
