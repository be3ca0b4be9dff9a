// Latchkey's glue, not part of ALTCHA. The CSP build (altcha.min.js) registers no proof-of-work
// solver, so register the SHA-256 one (the only algorithm Latchkey issues) from this directory:
// a same-origin worker file passes `worker-src 'self'`, where the default build's blob: workers
// would not. Load with <script type="module" src=".../latchkey-altcha.js">.
import "./altcha.min.js";

const shaWorker = new URL("./workers/sha.js", import.meta.url);
globalThis.$altcha.algorithms.set("SHA-256", () => new Worker(shaWorker));
