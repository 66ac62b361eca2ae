// The page's Plotly.js: its core and the 2D trace types the page draws (scatter comes with the core).
// Evaluating it sets window.Plotly, which every chart module uses.
var Plotly = require("plotly.js/lib/core");

Plotly.register([require("plotly.js/lib/contour"), require("plotly.js/lib/heatmap"), require("plotly.js/lib/bar")]);
window.Plotly = Plotly;
export default Plotly;
