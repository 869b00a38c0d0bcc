// Loads TypeScript support (tsx and our module hooks, see enable.mjs) for code that runs
// redun from its sources: import it for its effect, before any .ts module. The compiled
// package does not need it; it calls enableTypeScript() itself when user code may load.
import { enableTypeScript } from "./enable.mjs";

await enableTypeScript();
