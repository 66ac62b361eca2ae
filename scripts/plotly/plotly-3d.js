// The 3D view's trace types, registered into the same Plotly core (esbuild puts the core in a chunk
// both entries share), loaded by charts/surface3d.js after the first runs are drawn.
var Plotly = require("plotly.js/lib/core");

Plotly.register([require("plotly.js/lib/surface"), require("plotly.js/lib/scatter3d")]);
export default Plotly;
