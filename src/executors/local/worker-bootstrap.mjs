// Entry point of pool workers (threads and child processes). Node 20 cannot start a .ts
// worker directly, so this registers TypeScript support first, then loads the real worker
// code and, later, the workflow modules it is asked to import.
import "../../loader/register.mjs";

await import("./worker-main.ts");
