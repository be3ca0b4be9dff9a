// Latchkey Web SDK, v1, as an ES module: `import { Latchkey } from ".../sdk/v1/latchkey.mjs"`.
// The classic script below defines globalThis.latchkey; this module re-exports it.
import "./latchkey.js";

const { Latchkey, version } = globalThis.latchkey;
export { Latchkey, version };
export default Latchkey;
