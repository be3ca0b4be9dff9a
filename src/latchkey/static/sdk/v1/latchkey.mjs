// Latchkey Web SDK, v1, as an ES module: `import { Latchkey } from ".../sdk/v1/latchkey.mjs"`.
// The classic script latchkey.js defines globalThis.latchkey (no build step); this module
// runs it once and re-exports it. Types: latchkey.d.ts.
import "./latchkey.js";

const { Latchkey, version } = globalThis.latchkey;
export { Latchkey, version };
export default Latchkey;
