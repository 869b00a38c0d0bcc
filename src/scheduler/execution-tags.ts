/**
 * The tags an execution is recorded with, as Python redun records them: `redun.version`,
 * `user`, `project` (the root task's namespace), and, when the working directory is in a git
 * repository, `git_commit` and `git_origin_url`; then the configuration's `[tags]` and the
 * run's own (`redun run --tag`), later ones winning. Git is read from its files (HEAD, refs,
 * config), not by running `git`, so a run pays no process start for it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { packageVersion } from "../values/package-version.ts";

/** Tags as pairs, from an object or a list of pairs (the task option's two forms). */
export function tagPairs(
  tags: Readonly<Record<string, unknown>> | readonly (readonly [string, unknown])[],
): [string, unknown][] {
  return Array.isArray(tags)
    ? tags.map(([k, v]) => [k, v] as [string, unknown])
    : Object.entries(tags);
}

/** The default tags of an execution whose root task is in `namespace`. */
export function defaultExecutionTags(namespace: string | undefined, cwd = process.cwd()) {
  const tags: Record<string, unknown> = { "redun.version": packageVersion(), user: userName() };
  if (namespace) tags.project = namespace;
  const git = gitInfo(cwd);
  if (git.commit) tags.git_commit = git.commit;
  if (git.originUrl) tags.git_origin_url = git.originUrl;
  return tags;
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    // No passwd entry (a container running as an arbitrary uid).
    return process.env.USER ?? process.env.LOGNAME ?? String(process.getuid?.() ?? "unknown");
  }
}

/** Git facts by directory, read once per process (a program may run many executions). */
const gitInfoCache = new Map<string, { commit?: string; originUrl?: string }>();

/** The commit checked out and the `origin` remote's URL of the repository holding `dir`. */
export function gitInfo(dir: string): { commit?: string; originUrl?: string } {
  let info = gitInfoCache.get(dir);
  if (!info) gitInfoCache.set(dir, (info = readGitInfo(dir)));
  return info;
}

function readGitInfo(dir: string): { commit?: string; originUrl?: string } {
  const gitDir = findGitDir(dir);
  if (!gitDir) return {};
  const readIn = (dir: string, file: string) => {
    try {
      return fs.readFileSync(path.join(dir, file), "utf8");
    } catch {
      return undefined;
    }
  };
  // A linked worktree keeps its HEAD and points at the main repository for refs and config.
  const common = readIn(gitDir, "commondir")?.trim();
  const commonDir = common ? path.resolve(gitDir, common) : gitDir;
  const read = (file: string) => readIn(gitDir, file) ?? readIn(commonDir, file);
  let commit: string | undefined;
  const head = read("HEAD")?.trim();
  if (head?.startsWith("ref: ")) {
    const ref = head.slice(5);
    commit =
      read(ref)?.trim() ??
      read("packed-refs")
        ?.split("\n")
        .find((line) => line.endsWith(` ${ref}`))
        ?.split(" ")[0];
  } else if (head) {
    commit = head;
  }
  // [remote "origin"] ... url = X
  const config = read("config") ?? "";
  const origin = /\[remote "origin"\]([^[]*)/.exec(config)?.[1];
  const originUrl = origin ? /^\s*url\s*=\s*(.+?)\s*$/m.exec(origin)?.[1] : undefined;
  return { commit: commit && /^[0-9a-f]{40,64}$/.test(commit) ? commit : undefined, originUrl };
}

/** The `.git` directory for `dir` (a worktree's `.git` file points at it), if any. */
function findGitDir(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const candidate = path.join(d, ".git");
    try {
      const stat = fs.statSync(candidate);
      if (stat.isDirectory()) return candidate;
      const pointer = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(candidate, "utf8"))?.[1];
      if (pointer) return path.resolve(d, pointer.trim());
    } catch {
      // Not here: look further up.
    }
    if (path.dirname(d) === d) return undefined;
  }
}
