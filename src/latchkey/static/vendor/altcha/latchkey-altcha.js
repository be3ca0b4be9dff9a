// Latchkey's glue, not part of ALTCHA. The CSP build (altcha.min.js) registers no proof-of-work
// solver, so register the SHA-256 one (the only algorithm Latchkey issues) from this directory:
// a same-origin worker file passes `worker-src 'self'`, where the default build's blob: workers
// would not. Load with <script type="module" src=".../latchkey-altcha.js">.
import "./altcha.min.js";

const shaWorker = new URL("./workers/sha.js", import.meta.url);
globalThis.$altcha.algorithms.set("SHA-256", () => new Worker(shaWorker));

// The widget's words in the page's language: the hosted page's catalog block carries them
// (i18n/script_messages.py); ALTCHA picks its strings by <html lang>. Keys the catalog leaves
// out (the footer's markup) keep ALTCHA's English.
const block = document.getElementById("page-messages");
const words = block && JSON.parse(block.textContent).altcha;
if (words) {
  let english = {};
  globalThis.$altcha.i18n.store.subscribe((all) => { english = all.en || {}; })();
  globalThis.$altcha.i18n.set(document.documentElement.lang, { ...english, ...words });
}
