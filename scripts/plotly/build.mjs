// Builds static/vendor/plotly/ from the plotly.js npm package's lib/ modules (see scripts/build-plotly).
//
// Two ES-module entries sharing one chunk: plotly-2d.js (core, scatter, contour, heatmap, bar: what
// the page needs to draw its first runs) and plotly-3d.js (surface, scatter3d: the 3D view, loaded
// afterwards). The options follow plotly.js's own esbuild-config.js; CSS imports (MapLibre's, for
// map traces the page does not use) are dropped.
import { createRequire } from "node:module";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [nodeModules, outdir] = process.argv.slice(2);
const esbuild = createRequire(join(nodeModules, "index.js"))("esbuild");
const { version } = createRequire(join(nodeModules, "index.js"))("plotly.js/package.json");
// plotly.js's MIT notice, as its own dist files carry it (its lib/ modules have none for legalComments to keep).
const banner = `/**\n* plotly.js v${version} (a partial bundle: scripts/build-plotly)\n* Copyright 2012-2026, Plotly, Inc.\n` +
  "* All rights reserved.\n* Licensed under the MIT license\n*/";
rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints: [join(here, "plotly-2d.js"), join(here, "plotly-3d.js")],
  outdir, format: "esm", splitting: true, bundle: true, minify: true, chunkNames: "plotly-core-[hash]",
  nodePaths: [nodeModules],
  alias: { regl: "@plotly/regl", stream: "stream-browserify" },
  define: { global: "window", "define.amd": "false", "process.env.NODE_DEBUG": "false" },
  loader: { ".css": "empty" },
  target: "es2020", legalComments: "eof", logLevel: "info", banner: { js: banner },
});
console.log(readdirSync(outdir).join("\n"));
