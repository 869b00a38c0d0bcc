// Makes TypeScript workflow files importable in this thread: tsx, then our module hooks
// (esm-hooks.mjs). The compiled redun (dist/) calls it once, just before user code may be
// imported, so that redun itself and its dependencies load natively, not through the hooks.
//
// Why the order matters: on Node 20 every module resolved or loaded after a hook is
// registered takes a round trip to the hooks thread (tsx's hooks, then ours). Kysely alone
// is some 980 ES modules: natively ~0.15 s, through the hooks ~0.5 s. So the modules user
// code will import (redun's index and what it loads) are imported first, natively, and
// then the hooks go in. Node 22.15+ offers same-thread hooks (module.registerHooks), which
// tsx uses there, and so do we.
import module from "node:module";
import { esbuildRedirect, redirectSync } from "./esbuild-redirect.mjs";

let enabled = false;

/**
 * Registers TypeScript support once per thread, after importing `preload` (module URLs)
 * natively.
 */
export async function enableTypeScript(preload = []) {
  if (enabled) return;
  enabled = true;
  for (const url of preload) await import(url);
  if (typeof module.registerHooks === "function") {
    module.registerHooks({ resolve: redirectSync(esbuildRedirect()) });
  } else {
    module.register("./esbuild-redirect.mjs", import.meta.url, { data: esbuildRedirect() });
  }
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  if (typeof module.registerHooks === "function") {
    const { resolveSync } = await import("./esm-hooks.mjs");
    module.registerHooks({ resolve: resolveSync });
  } else {
    module.register("./esm-hooks.mjs", import.meta.url);
  }
}
