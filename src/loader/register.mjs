// Loads TypeScript for the redun command and for pool workers: tsx, then our module hooks
// (see esm-hooks.mjs). Imported for its effect, before any .ts module.
import { register as registerHooks } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
registerHooks("./esm-hooks.mjs", import.meta.url);
