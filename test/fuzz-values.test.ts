/**
 * Property-based tests (fast-check) of values through serialization and hashing: every
 * supported value survives a round trip exactly, its hash survives the round trip, equal
 * hashes come only from equal values, and an unsupported or cyclic value is one clear
 * `UnsupportedValueError`. Fixed seeds: a failure prints its seed and the shrunk value.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { hashValue } from "../src/values/hash.ts";
import { deserializeValue, serializeValue } from "../src/values/serialize.ts";
import { UnsupportedValueError } from "../src/values/errors.ts";

const SEED = 20_261_130;
const RUNS = 300;

/** Leaves: every primitive (NaN, -0, ±Infinity, bigints, any UTF-16 string), dates, bytes. */
const leaf = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ maxLength: 6 }),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date(),
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(/a+b/g, /^x$/imsu, /[\]\\/]/),
);

/** Keys, with fast-check's dangerous ones (`__proto__`, `constructor`, `$t`) mixed in. */
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("$t", "__proto__", "v", ""));

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc
      .array(fc.tuple(key, tie("value")), { maxLength: 4 })
      .map((entries) => Object.fromEntries(entries)),
    fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 3 }).map((e) => new Map(e)),
    fc.array(tie("value"), { maxLength: 3 }).map((items) => new Set(items)),
  ),
}));

/** Runs a property with the fixed seed (fast-check's report includes seed and counterexample). */
function check<T>(arb: fc.Arbitrary<T>, predicate: (v: T) => void, runs = RUNS): void {
  fc.assert(fc.property(arb, predicate), { seed: SEED, numRuns: runs });
}

describe("fuzz: values through serialization and hashing", () => {
  test("a round trip gives back an equal value (deep, strict: -0, NaN, types, key order)", () => {
    check(value, (v) => {
      const back = deserializeValue(serializeValue(v));
      assert.ok(isDeepStrictEqual(back, v), `round trip changed the value`);
      // Strings must come back with every UTF-16 unit, lone surrogates included.
      assert.equal(JSON.stringify(back, replacer), JSON.stringify(v, replacer));
    });
  });

  test("a value's hash is stable: the same after a round trip", () => {
    check(value, (v) => {
      const hash = hashValue(v);
      assert.match(hash, /^[0-9a-f]{40}$/);
      assert.equal(hashValue(deserializeValue(serializeValue(v))), hash);
      assert.equal(hashValue(v), hash, "hashing again");
    });
  });

  test("equal hashes only for equal values", () => {
    // Pairs of unrelated values, and pairs that differ in one small way.
    const pair = fc.oneof(
      fc.tuple(value, value),
      value.chain((v) => fc.tuple(fc.constant(v), tweak(v))),
    );
    check(pair, ([a, b]) => {
      if (hashValue(a) === hashValue(b)) {
        assert.ok(isDeepStrictEqual(a, b), "two different values share a hash");
      } else {
        assert.ok(!isDeepStrictEqual(a, b), "two equal values have different hashes");
      }
    });
  });

  test("a cyclic or unsupported value is one UnsupportedValueError naming where", () => {
    const bad = fc.oneof(
      fc.constant(() => 1),
      fc.constant(Symbol("s")),
      fc.constant(new (class Unregistered {})()),
      fc.constant(new WeakMap()),
      fc.constant(cyclic()),
    );
    check(
      fc.tuple(value, bad, fc.array(fc.oneof(key, fc.nat(3)), { minLength: 1, maxLength: 3 })),
      ([base, inner, path]) => {
        const holder = embed(inner, path);
        const outer = [base, holder];
        for (const operation of [() => serializeValue(outer), () => hashValue(outer)]) {
          assert.throws(operation, (error: unknown) => {
            assert.ok(error instanceof UnsupportedValueError, String(error));
            assert.doesNotMatch(error.message, /\n/);
            return true;
          });
        }
      },
      100,
    );
  });
});

/** JSON for comparison: strings as their UTF-16 code units, so lone surrogates count. */
function replacer(_key: string, v: unknown): unknown {
  if (typeof v === "string") return [...v].map((c) => c.charCodeAt(0).toString(16)).join(".");
  if (typeof v === "bigint") return `${v}n`;
  return v;
}

/** A value that differs from `v` in one small way (or, rarely, not at all). */
function tweak(v: unknown): fc.Arbitrary<unknown> {
  if (typeof v === "number")
    return fc.constantFrom(-v, v + 1, String(v), BigInt(0), Object.is(v, 0) ? -0 : 0);
  if (typeof v === "string") return fc.constantFrom(v + " ", v.slice(1), [v], { [v]: v });
  if (typeof v === "bigint") return fc.constantFrom(Number(v), v + 1n, String(v));
  if (Array.isArray(v)) return fc.constantFrom([...v, null], v.slice(1), { ...v }, new Set(v));
  if (v instanceof Map)
    return fc.constantFrom(new Map([...v, [v.size, v.size]]), Object.fromEntries(v));
  if (v instanceof Set) return fc.constantFrom(new Set([...v, "extra"]), [...v]);
  if (v instanceof Uint8Array)
    return fc.constantFrom(Buffer.isBuffer(v) ? new Uint8Array(v) : Buffer.from(v), [...v]);
  if (v instanceof Date) return fc.constantFrom(new Date(v.getTime() + 1), v.getTime());
  if (v && typeof v === "object" && !(v instanceof RegExp)) {
    return fc.constantFrom({ ...v, extra: 1 }, Object.values(v), new Map(Object.entries(v)));
  }
  return fc.constantFrom(undefined, null, false, 0, "", []);
}

function cyclic(): unknown {
  const a: unknown[] = [1];
  a.push({ again: a });
  return a;
}

/** `inner` at `path` inside arrays and objects. */
function embed(inner: unknown, path: (string | number)[]): unknown {
  return path.reduceRight<unknown>(
    (v, step) => (typeof step === "number" ? [...Array(step).fill(0), v] : { [step]: v }),
    inner,
  );
}
