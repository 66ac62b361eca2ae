// The page's first requests, started before Plotly.js is evaluated: main.js imports this module
// first, so the catalog and the lessons are on their way while the browser runs the charts' code.

import { loadCatalog, loadLessons } from "./api.js";

/** [catalog, lessons]; main.js's start() awaits it (and reports a failure). */
export const firstRequests = Promise.all([loadCatalog(), loadLessons().catch(() => [])]);
firstRequests.catch(() => {}); // handled by start(): not an unhandled rejection meanwhile
