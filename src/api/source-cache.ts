/**
 * Caches source analyses by the sha256 of the text analysed, in memory and on disk, so that a
 * run whose workflow files have not changed never loads the TypeScript compiler. The disk cache
 * is an optimisation: any error reading or writing it is ignored.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const memory = new Map<string, unknown>();

/**
 * Where analyses are kept: `$REDUN_CACHE_DIR`, else `$XDG_CACHE_HOME/redun`, else
 * `~/.cache/redun`, each with a `source-v1/` folder beneath.
 */
export function sourceCacheDir(): string {
  const base =
    process.env.REDUN_CACHE_DIR ||
    (process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, "redun") : "") ||
    path.join(os.homedir(), ".cache", "redun");
  return path.join(base, "source-v1");
}

/** The cache key of a text: its sha256 with what it is and how it is analysed. */
export function analysisKey(parts: readonly (string | number)[], text: string): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(`${part}\0`);
  return hash.update(text).digest("hex");
}

/** The cached result for a key, computing and storing it on a miss. */
export function cachedAnalysis<T>(key: string, compute: () => T): T {
  if (memory.has(key)) return memory.get(key) as T;
  const file = path.join(sourceCacheDir(), `${key}.json`);
  let value: T | undefined;
  try {
    value = JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    value = undefined;
  }
  if (value === undefined) {
    value = compute();
    write(file, value);
  }
  memory.set(key, value);
  return value;
}

/** Forgets the analyses held in memory (the disk cache stays). */
export function clearMemoryCache(): void {
  memory.clear();
}

function write(file: string, value: unknown): void {
  // Write then rename: a reader in another process sees the whole file or none of it.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(temp, JSON.stringify(value));
    fs.renameSync(temp, file);
  } catch {
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // Nothing more to do: the cache is an optimisation.
    }
  }
}
