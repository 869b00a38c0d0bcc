// Checks the imports of src/ (under the current directory) against the rules in
// .dependency-cruiser.cjs (no import cycles, no folder importing a higher layer's) with
// dependency-cruiser, printing one line per violation: `rule: from → to` (a cycle as its whole
// path). It also fails on two files of src/ with one base name (index.ts apart). Exits 1 when
// there is any; `npm run lint:imports` runs it, and `npm run lint` too.
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { cruise } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";

const started = performance.now();
const configFile = fileURLToPath(new URL("../.dependency-cruiser.cjs", import.meta.url));
const options = await extractDepcruiseOptions(configFile);
const { output } = await cruise(["src"], { ...options, outputType: "json" });
const result = typeof output === "string" ? JSON.parse(output) : output;
const { summary } = result;
const seconds = ((performance.now() - started) / 1000).toFixed(1);

const lines = summary.violations.map((v) => {
  // A cycle lists the modules after `from`, ending back at it.
  const to = v.cycle?.length ? v.cycle.map((step) => step.name ?? step).join(" → ") : v.to;
  return `${v.rule.name}: ${v.from} → ${to}`;
});

// One base name, one file: a name says what the file holds, wherever it is opened from
// (`index.ts`, the list of names of an entry point, is the one name shared on purpose).
const byBaseName = new Map();
for (const module of result.modules.map((m) => m.source).filter((s) => s.startsWith("src/"))) {
  const base = path.basename(module);
  if (base !== "index.ts") byBaseName.set(base, [...(byBaseName.get(base) ?? []), module]);
}
let duplicates = 0;
for (const [base, modules] of byBaseName) {
  if (modules.length < 2) continue;
  duplicates++;
  lines.push(`no-duplicate-base-name: ${base} is the name of ${modules.sort().join(", ")}`);
}
for (const line of [...new Set(lines)].sort()) console.error(`  ${line}`);

const counts = `${summary.totalCruised} modules, ${summary.totalDependenciesCruised} imports`;
if (summary.error + duplicates > 0) {
  console.error(
    `lint-imports: ${summary.error} forbidden import(s) and ${duplicates} repeated file ` +
      `name(s) in src/ (${counts}, ${seconds} s); the layer order and the rules are in ` +
      ".dependency-cruiser.cjs",
  );
  process.exitCode = 1;
} else {
  console.log(`lint-imports: no import cycles or upward imports in src/ (${counts}, ${seconds} s)`);
}
