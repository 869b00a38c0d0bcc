/**
 * Tags: key=value labels on executions, jobs, calls and values. A tag is content
 * addressed (entity, key and value), so adding the same tag again changes nothing. Values
 * are stored as JSON text.
 */
import type { Kysely } from "kysely";
import type { Database, EntityType } from "./schema.ts";
import { emptyBatch, writeBatch } from "./writes.ts";
import { hashParts } from "../values/hash.ts";

/** A tag on a record. */
export interface Tag {
  entityType: EntityType;
  entityId: string;
  key: string;
  value: unknown;
  timestamp: string;
}

/** The hash that identifies a tag. */
export function tagHash(
  entityType: string,
  entityId: string,
  key: string,
  valueJson: string,
): string {
  return hashParts(["tag", entityType, entityId, key, valueJson]);
}

function toTag(row: Database["tag"]): Tag {
  let value: unknown = row.value;
  try {
    value = JSON.parse(row.value);
  } catch {
    // Text written by something else: kept as it is.
  }
  return {
    entityType: row.entity_type as EntityType,
    entityId: row.entity_id,
    key: row.key,
    value,
    timestamp: row.timestamp,
  };
}

/** The `tag` rows for tags on one record (values stored as JSON text). */
export function tagRows(
  entityType: EntityType,
  entityId: string,
  tags: readonly (readonly [string, unknown])[],
  timestamp = new Date().toISOString(),
): Database["tag"][] {
  return tags.map(([key, value]) => {
    const json = JSON.stringify(value ?? null);
    return {
      tag_hash: tagHash(entityType, entityId, key, json),
      entity_type: entityType,
      entity_id: entityId,
      key,
      value: json,
      timestamp,
    };
  });
}

/**
 * Adds tags to a record.
 * @returns how many were new.
 */
export async function addTags(
  db: Kysely<Database>,
  entityType: EntityType,
  entityId: string,
  tags: readonly (readonly [string, unknown])[],
): Promise<number> {
  const batch = emptyBatch();
  batch.tag.push(...tagRows(entityType, entityId, tags));
  return writeBatch(db, batch, "import");
}

/** The tags of some records (all records of the type when `entityIds` is omitted). */
export async function getTags(
  db: Kysely<Database>,
  entityType?: EntityType,
  entityIds?: readonly string[],
): Promise<Tag[]> {
  let query = db.selectFrom("tag").selectAll().orderBy("key").orderBy("value").orderBy("entity_id");
  if (entityType) query = query.where("entity_type", "=", entityType);
  if (entityIds) query = query.where("entity_id", "in", entityIds.length ? [...entityIds] : [""]);
  return (await query.execute()).map(toTag);
}

/** Records with a tag (any value, or the given one). */
export async function findByTag(
  db: Kysely<Database>,
  key: string,
  value?: unknown,
): Promise<Tag[]> {
  let query = db.selectFrom("tag").selectAll().where("key", "=", key);
  if (value !== undefined) query = query.where("value", "=", JSON.stringify(value));
  return (await query.orderBy("entity_type").orderBy("entity_id").execute()).map(toTag);
}

/**
 * Removes a record's tags with a key (any value, or the given one).
 * @returns how many were removed.
 */
export async function removeTags(
  db: Kysely<Database>,
  entityType: EntityType,
  entityId: string,
  key: string,
  value?: unknown,
): Promise<number> {
  let query = db
    .deleteFrom("tag")
    .where("entity_type", "=", entityType)
    .where("entity_id", "=", entityId)
    .where("key", "=", key);
  if (value !== undefined) query = query.where("value", "=", JSON.stringify(value));
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Sets tags on a record, replacing any value its keys had (`redun tag update`). The new
 * values are written first, so an interrupted update leaves both values, never neither.
 * @returns how many old values were replaced.
 */
export async function updateTags(
  db: Kysely<Database>,
  entityType: EntityType,
  entityId: string,
  tags: readonly (readonly [string, unknown])[],
): Promise<number> {
  await addTags(db, entityType, entityId, tags);
  let replaced = 0;
  for (const [key, value] of tags) {
    const result = await db
      .deleteFrom("tag")
      .where("entity_type", "=", entityType)
      .where("entity_id", "=", entityId)
      .where("key", "=", key)
      .where("value", "!=", JSON.stringify(value ?? null))
      .executeTakeFirst();
    replaced += Number(result.numDeletedRows);
  }
  return replaced;
}
