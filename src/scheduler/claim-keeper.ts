/**
 * The calls an execution runs, claimed in the database so that no other scheduler sharing
 * it runs them at the same time (table `call_claim`, schema version 3). A call is claimed
 * just before its task body runs (the claims of one tick go out as one transaction), its
 * lease is renewed while it runs, and it is released once its result is recorded. A call
 * another scheduler holds is waited for: its result, once recorded, is a cache hit; if its
 * holder dies, the lease runs out and the call is taken over.
 *
 * A claim covers only a task body, never the evaluation of what it returned, so schedulers
 * waiting for each other's calls cannot deadlock.
 */
import type { Backend } from "../backend/backend.ts";
import { BatchLoader } from "../backend/batch-loader.ts";
import { releaseClaims, renewClaims, type Claims } from "../backend/call-claims.ts";
import { DatabaseUnavailableError } from "../backend/retry.ts";

/**
 * How long a lease lasts without renewal, by default: a restarted scheduler waits this long
 * for the calls its killed predecessor held (renewing costs one UPDATE every third of it).
 */
export const DEFAULT_CALL_LEASE_MS = 20_000;
/** The first pause before looking again for a result another scheduler is making. */
const FIRST_POLL_MS = 100;
/** The longest pause between looks (never more than a quarter of the lease). */
const MAX_POLL_MS = 2_000;
/**
 * How hard a claim tries while the database is unreachable before the calls run unclaimed:
 * an outage must not stop the work (its records wait in memory), and no other scheduler can
 * record a result meanwhile either.
 */
const CLAIM_RETRY = { attempts: 3, maxWaitMs: 2_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Claims, renews and releases the calls of one execution. */
export class ClaimKeeper {
  /** Per call: held, and whether its evaluation was recorded then (see `Claims`). */
  private readonly claims: BatchLoader<"held" | "recorded">;
  private held = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private warnedUnclaimed = false;
  /** Whether a claim was ever asked for (a run replayed from the cache asks for none). */
  private claimed = false;

  /**
   * @param holder - the execution's id (what other schedulers see holding a call).
   * @param leaseMs - how long a claim lasts unless renewed (renewed every third of it).
   */
  constructor(
    private readonly backend: Backend,
    private readonly holder: string,
    readonly leaseMs = DEFAULT_CALL_LEASE_MS,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.claims = new BatchLoader(async (evalHashes) => {
      this.claimed = true;
      let claims: Claims;
      try {
        claims = await backend.claimCalls(holder, evalHashes, this.leaseMs, CLAIM_RETRY);
      } catch (error) {
        if (!(error instanceof DatabaseUnavailableError)) throw error;
        // Unclaimed, and unknown: each is looked up again.
        claims = { held: new Set(evalHashes), recorded: new Set(evalHashes) };
        if (!this.warnedUnclaimed) {
          this.warnedUnclaimed = true;
          this.log(
            `[redun] Cannot claim calls (${error.message}): running them unclaimed; ` +
              "another scheduler sharing the database may run some of them too.\n",
          );
        }
      }
      return new Map(
        [...claims.held].map((hash) => [hash, claims.recorded.has(hash) ? "recorded" : "held"]),
      );
    });
  }

  /** Whether the database keeps claims (schema version 3 and later). */
  get enabled(): boolean {
    return this.backend.schemaVersion >= 3;
  }

  /**
   * Claims a call, or waits while another scheduler holds it.
   * @param lookup - the call's cache lookup, tried again after each pause.
   * @returns undefined once this execution holds the claim (run the call, then
   *   {@link release} it), or the cache hit that appeared meanwhile.
   */
  async claim<Hit>(
    evalHash: string,
    lookup: () => Promise<Hit | undefined>,
  ): Promise<Hit | undefined> {
    let pause = FIRST_POLL_MS;
    for (;;) {
      const claim = await this.claims.load(evalHash);
      if (claim) {
        // Its holder may have recorded it and let go between our lookup and our claim (then
        // the claim saw its evaluation recorded).
        const hit = claim === "recorded" ? await lookup() : undefined;
        if (hit !== undefined) {
          this.queueRelease(evalHash);
          return hit;
        }
        this.hold();
        return undefined;
      }
      await sleep(pause);
      pause = Math.min(pause * 2, MAX_POLL_MS, this.leaseMs / 4);
      const hit = await lookup();
      if (hit !== undefined) return hit;
    }
  }

  /**
   * The call has finished (its rows are queued): its claim goes once they are written, so
   * that a scheduler waiting for it finds the result, never a free call it would run again.
   */
  release(evalHash: string): void {
    if (--this.held === 0) this.stopHeartbeat();
    this.queueRelease(evalHash);
  }

  /** Releases whatever this execution still holds, once everything it queued is written. */
  async close(): Promise<void> {
    this.stopHeartbeat();
    await this.backend.flush();
    if (!this.claimed) return;
    await this.backend.writeNow((handle) => releaseClaims(handle, this.holder)).catch(() => {});
  }

  private queueRelease(evalHash: string): void {
    // Released in the transaction that writes the rows queued so far, the call's among them.
    this.backend.releaseWithRows(this.holder, evalHash);
  }

  private hold(): void {
    if (this.held++ > 0) return;
    this.heartbeat = setInterval(() => {
      void this.backend
        .writeNow((handle) => renewClaims(handle.db, this.holder, this.leaseMs))
        .catch(() => {});
    }, this.leaseMs / 3);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
