/**
 * Leases on the calls schedulers run (table `call_claim`, schema version 3). Claiming
 * succeeds for a call nobody holds, one whose lease has expired (its holder died), or one
 * the holder already holds; renewing extends every lease of a holder; releasing deletes
 * them. Each operation is one transaction; on SQLite through statements prepared once per
 * connection (a fan-out claims thousands of calls at once), elsewhere through Kysely.
 */
import type { Database as SQLiteConnection, Statement } from "better-sqlite3";
import type { Kysely } from "kysely";
import type { DatabaseHandle } from "./connection.ts";
import type { Database } from "./schema.ts";

/** Rows per statement on the generic path (three parameters each). */
const CHUNK = 500;

const CLAIM_SQL =
  'insert into "call_claim" ("eval_hash", "holder", "expires_at") values (?, ?, ?) ' +
  'on conflict ("eval_hash") do update set "holder" = excluded."holder", ' +
  '"expires_at" = excluded."expires_at" ' +
  'where "call_claim"."expires_at" < ? or "call_claim"."holder" = ? returning "eval_hash"';
const RELEASE_SQL = 'delete from "call_claim" where "holder" = ? and "eval_hash" = ?';
const RECORDED_SQL = 'select 1 from "evaluation" where "eval_hash" = ?';

const prepared = new WeakMap<
  object,
  { claim: Statement; release: Statement; recorded: Statement }
>();

function statements(sqlite: SQLiteConnection) {
  let s = prepared.get(sqlite);
  if (!s) {
    s = {
      claim: sqlite.prepare(CLAIM_SQL),
      release: sqlite.prepare(RELEASE_SQL),
      recorded: sqlite.prepare(RECORDED_SQL),
    };
    prepared.set(sqlite, s);
  }
  return s;
}

/** What a claim got. */
export interface Claims {
  /** The eval hashes `holder` holds now (the others are held by someone else). */
  held: Set<string>;
  /**
   * Those of `held` whose evaluation is recorded (seen in the claim's own transaction): only
   * they may have become cache hits since the caller's lookup, and need looking up again.
   */
  recorded: Set<string>;
}

/** Claims calls by eval hash for `holder` until `now + leaseMs`. */
export async function claimCalls(
  handle: Pick<DatabaseHandle, "db" | "sqlite">,
  holder: string,
  evalHashes: readonly string[],
  leaseMs: number,
  now = Date.now(),
): Promise<Claims> {
  const sqlite = handle.sqlite as SQLiteConnection | undefined;
  if (sqlite) return claimCallsSqlite(sqlite, holder, evalHashes, leaseMs, now);
  const claimed = new Set<string>();
  const recorded = new Set<string>();
  const expires = now + leaseMs;
  await handle.db.transaction().execute(async (trx) => {
    for (let i = 0; i < evalHashes.length; i += CHUNK) {
      const rows = await trx
        .insertInto("call_claim")
        .values(
          evalHashes
            .slice(i, i + CHUNK)
            .map((eval_hash) => ({ eval_hash, holder, expires_at: expires })),
        )
        .onConflict((oc) =>
          oc
            .column("eval_hash")
            .doUpdateSet((eb) => ({
              holder: eb.ref("excluded.holder"),
              expires_at: eb.ref("excluded.expires_at"),
            }))
            .where((eb) =>
              eb.or([eb("call_claim.expires_at", "<", now), eb("call_claim.holder", "=", holder)]),
            ),
        )
        .returning("eval_hash")
        .execute();
      for (const row of rows) claimed.add(row.eval_hash);
    }
    const held = [...claimed];
    for (let i = 0; i < held.length; i += CHUNK) {
      const rows = await trx
        .selectFrom("evaluation")
        .select("eval_hash")
        .where("eval_hash", "in", held.slice(i, i + CHUNK))
        .execute();
      for (const row of rows) recorded.add(row.eval_hash);
    }
  });
  return { held: claimed, recorded };
}

/** Extends every lease `holder` holds to `now + leaseMs`. */
export async function renewClaims(
  db: Kysely<Database>,
  holder: string,
  leaseMs: number,
  now = Date.now(),
): Promise<void> {
  await db
    .updateTable("call_claim")
    .set({ expires_at: now + leaseMs })
    .where("holder", "=", holder)
    .execute();
}

/**
 * {@link claimCalls} on a SQLite connection (a better-sqlite3 `Database`, typed loosely so
 * that the package's declarations need no driver types), synchronously, in one transaction.
 */
export function claimCallsSqlite(
  connection: object,
  holder: string,
  evalHashes: readonly string[],
  leaseMs: number,
  now = Date.now(),
): Claims {
  const sqlite = connection as SQLiteConnection;
  const held = new Set<string>();
  const recorded = new Set<string>();
  const expires = now + leaseMs;
  const { claim, recorded: isRecorded } = statements(sqlite);
  sqlite
    .transaction(() => {
      for (const hash of evalHashes) {
        if (!claim.get(hash, holder, expires, now, holder)) continue;
        held.add(hash);
        if (isRecorded.get(hash)) recorded.add(hash);
      }
    })
    .immediate();
  return { held, recorded };
}

/** Claims to let go of: some calls `holder` held. */
export interface ClaimRelease {
  holder: string;
  evalHashes: readonly string[];
}

/** Releases claims inside the caller's SQLite transaction (a better-sqlite3 `Database`). */
export function releaseClaimsSqlite(connection: object, releases: readonly ClaimRelease[]): void {
  // Nothing to prepare either: a database older than claims has no call_claim table.
  if (releases.length === 0) return;
  const { release } = statements(connection as SQLiteConnection);
  for (const { holder, evalHashes } of releases) {
    for (const hash of evalHashes) release.run(holder, hash);
  }
}

/** Releases claims inside the caller's transaction (any dialect). */
export async function releaseClaimsIn(
  trx: Kysely<Database>,
  releases: readonly ClaimRelease[],
): Promise<void> {
  for (const { holder, evalHashes } of releases) {
    for (let i = 0; i < evalHashes.length; i += CHUNK) {
      await trx
        .deleteFrom("call_claim")
        .where("holder", "=", holder)
        .where("eval_hash", "in", evalHashes.slice(i, i + CHUNK))
        .execute();
    }
  }
}

/** Releases `holder`'s leases on these calls (all of them when `evalHashes` is undefined). */
export async function releaseClaims(
  handle: Pick<DatabaseHandle, "db" | "sqlite">,
  holder: string,
  evalHashes?: readonly string[],
): Promise<void> {
  if (!evalHashes) {
    await handle.db.deleteFrom("call_claim").where("holder", "=", holder).execute();
    return;
  }
  const releases = [{ holder, evalHashes }];
  const sqlite = handle.sqlite as SQLiteConnection | undefined;
  if (sqlite) {
    sqlite.transaction(() => releaseClaimsSqlite(sqlite, releases))();
    return;
  }
  await handle.db.transaction().execute((trx) => releaseClaimsIn(trx, releases));
}
