/**
 * `redun tag add ID key=value...`, `redun tag update ID key=value...` (replacing the values
 * those keys had), `redun tag rm ID key[=value]...`,
 * `redun tag list [ID] [--format json]`: labels on executions, jobs, calls and values.
 * Values are JSON when they parse as JSON, else strings.
 */
import type { Command } from "commander";
import { resolveId } from "../backend/queries.ts";
import { addTags, getTags, removeTags, updateTags, type Tag } from "../backend/tags.ts";
import type { withBackend } from "./repositories.ts";
import { withBackendAndTypes } from "./value-types.ts";
import { UsageError } from "./error-report.ts";
import type { GlobalOptions } from "./global.ts";
import { parseTagValue } from "../config/config.ts";

function parsePair(pair: string, valueRequired: boolean): [string, unknown | undefined] {
  const eq = pair.indexOf("=");
  if (eq === 0 || (eq < 0 && valueRequired))
    throw new UsageError(`expected key=value, got "${pair}"`);
  return eq < 0 ? [pair, undefined] : [pair.slice(0, eq), parseTagValue(pair.slice(eq + 1))];
}

function formatTags(tags: Tag[]): string {
  if (tags.length === 0) return "No tags.\n";
  return tags
    .map(
      (t) =>
        `${t.entityType} ${t.entityId.slice(0, 8)}  ${t.key}=${typeof t.value === "string" ? t.value : JSON.stringify(t.value)}\n`,
    )
    .join("");
}

async function resolve(backend: Parameters<Parameters<typeof withBackend>[1]>[0], id: string) {
  return resolveId(backend.db, id).catch((error) => {
    throw new UsageError((error as Error).message);
  });
}

/** Adds the `tag` command group. */
export function tagCommand(program: Command): void {
  const tag = program.command("tag").description("add, remove and list tags on provenance records");
  const global = () => program.opts<GlobalOptions>();

  tag
    .command("add")
    .description("tag an execution, job, call or value")
    .argument("<id>", "id (or unambiguous prefix)")
    .argument("<tags...>", "key=value pairs")
    .action((id: string, pairs: string[]) =>
      withBackendAndTypes(global(), async (backend) => {
        const target = await resolve(backend, id);
        const tags = pairs.map((p) => parsePair(p, true));
        const added = await addTags(backend.db, target.type, target.id, tags);
        process.stdout.write(`${added} tag(s) added to ${target.type} ${target.id}\n`);
      }),
    );

  tag
    .command("update")
    .description("set tags on a record, replacing the values their keys had")
    .argument("<id>", "id (or unambiguous prefix)")
    .argument("<tags...>", "key=value pairs")
    .action((id: string, pairs: string[]) =>
      withBackendAndTypes(global(), async (backend) => {
        const target = await resolve(backend, id);
        const tags = pairs.map((p) => parsePair(p, true));
        const replaced = await updateTags(backend.db, target.type, target.id, tags);
        process.stdout.write(
          `${tags.length} tag(s) set on ${target.type} ${target.id} (${replaced} old value(s) replaced)\n`,
        );
      }),
    );

  tag
    .command("rm")
    .description("remove tags (key, or key=value) from a record")
    .argument("<id>", "id (or unambiguous prefix)")
    .argument("<keys...>", "key or key=value")
    .action((id: string, pairs: string[]) =>
      withBackendAndTypes(global(), async (backend) => {
        const target = await resolve(backend, id);
        let removed = 0;
        for (const pair of pairs) {
          const [key, value] = parsePair(pair, false);
          removed += await removeTags(backend.db, target.type, target.id, key, value);
        }
        process.stdout.write(`${removed} tag(s) removed from ${target.type} ${target.id}\n`);
      }),
    );

  tag
    .command("list")
    .description("the tags of a record, or every tag")
    .argument("[id]", "id (or unambiguous prefix)")
    .option("--format <format>", "text or json", "text")
    .action((id: string | undefined, options: { format: string }) =>
      withBackendAndTypes(
        global(),
        async (backend) => {
          const target = id ? await resolve(backend, id) : undefined;
          const tags = target
            ? await getTags(backend.db, target.type, [target.id])
            : await getTags(backend.db);
          process.stdout.write(
            options.format === "json" ? JSON.stringify(tags, null, 2) + "\n" : formatTags(tags),
          );
        },
        { readOnly: true },
      ),
    );
}
