/**
 * The value model: canonical hashing, the wire format (round trips of every supported
 * kind, in memory, through the database bytes and across worker threads and processes),
 * registered types and unsupported values. Replays from the database run on SQLite (thread
 * and process workers) and on PostgreSQL (thread workers: the database part does not
 * depend on the worker kind).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hashValue, registerType, UnsupportedValueError } from "../src/index.ts";
import {
  decodeValue,
  deserializeValue,
  encodeValue,
  serializeValue,
} from "../src/values/serialize.ts";
import * as wf from "./fixtures/workflows/engine-values.ts";
import { withDialectEnv, type DialectName } from "./helpers/dialects.ts";
import { withEnv } from "./helpers/engine.ts";

/** The (dialect, worker mode) pairs of the database round trips. */
const DB_MODES: [DialectName, "thread" | "process"][] = [
  ["sqlite", "thread"],
  ["sqlite", "process"],
  ["postgresql", "thread"],
];

/** encode → JSON text → decode, as values travel between threads and to the database. */
function roundTrip<T>(value: T): T {
  const bytes = serializeValue(value);
  JSON.parse(bytes.toString("utf8")); // it is plain JSON
  return deserializeValue(bytes) as T;
}

const HEX40 = /^[0-9a-f]{40}$/;

describe("canonical hashing", () => {
  it("is a 40-hex-digit hash, deterministic for equal values", () => {
    const h = hashValue({ a: [1, "x", null] });
    assert.match(h, HEX40);
    assert.equal(hashValue({ a: [1, "x", null] }), h);
  });

  it("ignores object key insertion order, at any depth", () => {
    assert.equal(hashValue({ a: 1, b: 2 }), hashValue({ b: 2, a: 1 }));
    assert.equal(
      hashValue({ outer: { x: [1, { p: 1, q: 2 }], y: "s" }, z: true }),
      hashValue({ z: true, outer: { y: "s", x: [1, { q: 2, p: 1 }] } }),
    );
  });

  it("ignores Map entry order and Set element order", () => {
    assert.equal(
      hashValue(
        new Map<unknown, unknown>([
          ["a", 1],
          [2, "b"],
        ]),
      ),
      hashValue(
        new Map<unknown, unknown>([
          [2, "b"],
          ["a", 1],
        ]),
      ),
    );
    assert.equal(hashValue(new Set([1, "x", { k: 1 }])), hashValue(new Set([{ k: 1 }, "x", 1])));
  });

  it("keeps array order significant", () => {
    assert.notEqual(hashValue([1, 2]), hashValue([2, 1]));
  });

  it("distinguishes types: 1, '1', 1n, true", () => {
    const hashes = [1, "1", 1n, true].map((v) => hashValue(v));
    assert.equal(new Set(hashes).size, 4);
    assert.notEqual(hashValue(0), hashValue(false));
    assert.notEqual(hashValue(""), hashValue(false));
    assert.notEqual(hashValue(null), hashValue(undefined));
    assert.notEqual(hashValue([]), hashValue({}));
    assert.notEqual(hashValue([1]), hashValue(["1"]));
  });

  it("distinguishes containers with the same contents", () => {
    const hashes = [
      [1, 2],
      new Set([1, 2]),
      new Map([
        [0, 1],
        [1, 2],
      ]),
      { 0: 1, 1: 2 },
    ].map((v) => hashValue(v));
    assert.equal(new Set(hashes).size, 4);
  });

  it("cannot be fooled by concatenation (strings are length-prefixed)", () => {
    assert.notEqual(hashValue(["ab", "c"]), hashValue(["a", "bc"]));
    assert.notEqual(hashValue({ a: "b" }), hashValue({ ab: "" }));
    assert.notEqual(hashValue([["a"], "b"]), hashValue([["a", "b"]]));
  });

  it("distinguishes -0 from 0, and hashes NaN and infinities consistently", () => {
    assert.notEqual(hashValue(-0), hashValue(0));
    assert.equal(hashValue(NaN), hashValue(Number.NaN));
    assert.equal(hashValue(0 / 0), hashValue(NaN));
    assert.notEqual(hashValue(Infinity), hashValue(-Infinity));
    assert.notEqual(hashValue(NaN), hashValue("NaN"));
    assert.notEqual(hashValue(Infinity), hashValue("Infinity"));
  });

  it("distinguishes a missing key from an undefined one, and undefined from null", () => {
    assert.notEqual(hashValue({}), hashValue({ a: undefined }));
    assert.notEqual(hashValue({ a: undefined }), hashValue({ a: null }));
  });

  it("hashes nested structures by value", () => {
    const make = () => ({
      list: [1, [2, [3, new Map([["k", new Set([new Date(5), /x/g])]])]]],
      bytes: new Uint8Array([1, 2, 3]),
    });
    assert.equal(hashValue(make()), hashValue(make()));
    const changed = make();
    (changed.list[1] as any)[1][0] = 4;
    assert.notEqual(hashValue(changed), hashValue(make()));
  });

  it("distinguishes Dates, RegExps and bytes by content and kind", () => {
    assert.equal(hashValue(new Date(1000)), hashValue(new Date(1000)));
    assert.notEqual(hashValue(new Date(1000)), hashValue(new Date(1001)));
    assert.notEqual(hashValue(new Date(1000)), hashValue(1000));
    assert.notEqual(hashValue(/a/g), hashValue(/a/i));
    assert.notEqual(hashValue(/a/), hashValue("/a/"));
    assert.notEqual(hashValue(Buffer.from([1, 2])), hashValue(new Uint8Array([1, 2])));
    assert.notEqual(hashValue(new Uint8Array([1, 2])), hashValue(new Uint8Array([1, 3])));
    assert.notEqual(hashValue(new Uint8Array([1, 2])), hashValue([1, 2]));
  });

  it("hashes errors by class, message and properties, not by stack", () => {
    const a = new TypeError("m");
    const b = new TypeError("m");
    assert.notEqual(a.stack, undefined);
    assert.equal(hashValue(a), hashValue(b));
    assert.notEqual(hashValue(new TypeError("m")), hashValue(new RangeError("m")));
    assert.notEqual(hashValue(new Error("m")), hashValue(new Error("n")));
    const c = Object.assign(new Error("m"), { code: 1 });
    const d = Object.assign(new Error("m"), { code: 2 });
    assert.notEqual(hashValue(c), hashValue(d));
  });

  it("hashes a task by its task hash", async () => {
    assert.equal(hashValue(wf.identity), hashValue(wf.identity));
    assert.notEqual(hashValue(wf.identity), hashValue(wf.kindOf));
    assert.equal(hashValue({ t: wf.identity }), hashValue({ t: wf.identity }));
  });

  it("a task value changed by .options() or .exportOptions() hashes differently", () => {
    const plain = hashValue(wf.identity);
    const withMemory = hashValue(wf.identity.options({ memory: 2 }));
    assert.notEqual(withMemory, plain);
    assert.equal(withMemory, hashValue(wf.identity.options({ memory: 2 })));
    assert.notEqual(withMemory, hashValue(wf.identity.options({ memory: 3 })));
    assert.notEqual(hashValue(wf.identity.exportOptions({ memory: 2 })), withMemory);
  });

  it("a shared (non-cyclic) reference is fine", () => {
    const shared = { a: 1 };
    assert.equal(hashValue([shared, shared]), hashValue([{ a: 1 }, { a: 1 }]));
    assert.deepEqual(roundTrip([shared, shared]), [{ a: 1 }, { a: 1 }]);
  });
});

describe("serialization round trips", () => {
  const cases: [string, unknown][] = [
    ["null", null],
    ["undefined", undefined],
    ["true", true],
    ["false", false],
    ["integer", 42],
    ["float", -3.25],
    ["NaN", NaN],
    ["+0", 0],
    ["-0", -0],
    ["Infinity", Infinity],
    ["-Infinity", -Infinity],
    ["max safe integer", Number.MAX_SAFE_INTEGER],
    ["smallest float", Number.MIN_VALUE],
    ["bigint", 12345678901234567890123456789n],
    ["negative bigint", -5n],
    ["empty string", ""],
    ["unicode string", 'héllo ✓ 🎉 \u0000 \n "quoted"'],
    ["lone surrogate", "\ud800x"],
    ["array", [1, "two", null, undefined, [3]]],
    ["plain object", { a: 1, b: { c: [true] }, "key with space": 2, "": "empty key" }],
    ["object with $t key", { $t: "map", v: [] }],
    ["nested $t keys", { $t: { $t: "num", v: "NaN" }, other: [{ $t: 1 }] }],
    [
      "Map (any keys)",
      new Map<unknown, unknown>([
        ["s", 1],
        [2, "two"],
        [{ obj: true }, [1]],
        [null, undefined],
      ]),
    ],
    ["Set", new Set([1, "1", 1n, { a: 1 }])],
    ["Date", new Date("2024-02-29T12:34:56.789Z")],
    ["Date at epoch", new Date(0)],
    ["RegExp with flags", /a+b?\/c/gimsu],
    ["Buffer", Buffer.from([0, 1, 2, 255])],
    ["Uint8Array", new Uint8Array([9, 8, 7])],
    ["empty Uint8Array", new Uint8Array(0)],
    [
      "everything nested",
      {
        m: new Map([["k", new Set([new Date(0), -0, NaN])]]),
        l: [Buffer.from("x"), new Uint8Array([1]), /r/y, 7n, undefined],
      },
    ],
  ];

  for (const [label, value] of cases) {
    it(`round-trips ${label}`, () => {
      const back = roundTrip(value);
      assert.deepStrictEqual(back, value);
      assert.equal(hashValue(back), hashValue(value), "the hash survives the round trip");
    });
  }

  it("keeps Buffer and Uint8Array apart", () => {
    const buf = roundTrip(Buffer.from([1, 2]));
    const bytes = roundTrip(new Uint8Array([1, 2]));
    assert.ok(Buffer.isBuffer(buf));
    assert.ok(bytes instanceof Uint8Array);
    assert.ok(!Buffer.isBuffer(bytes));
  });

  it("round-trips an invalid Date as an invalid Date", () => {
    const back = roundTrip(new Date(NaN));
    assert.ok(back instanceof Date);
    assert.ok(Number.isNaN(back.getTime()));
    assert.equal(hashValue(back), hashValue(new Date("nope")));
  });

  it("round-trips an object with a __proto__ own key without changing its prototype", () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<
      string,
      unknown
    >;
    assert.ok(Object.keys(value).includes("__proto__"));
    const back = roundTrip(value);
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.deepStrictEqual(Object.keys(back).sort(), ["__proto__", "a"]);
    assert.equal(hashValue(back), hashValue(value));
  });

  it("round-trips built-in errors as their class, with message, stack and properties", () => {
    const error = Object.assign(new TypeError("wrong type"), { code: "E_TYPE", info: { n: 1n } });
    const back = roundTrip(error);
    assert.ok(back instanceof TypeError);
    assert.equal(back.name, "TypeError");
    assert.equal(back.message, "wrong type");
    assert.equal(back.stack, error.stack);
    assert.equal((back as any).code, "E_TYPE");
    assert.deepStrictEqual((back as any).info, { n: 1n });
    assert.equal(hashValue(back), hashValue(error));
  });

  it("round-trips a registered Error subclass as itself, with custom properties", () => {
    const back = roundTrip(new wf.ValidationError("bad", "email"));
    assert.ok(back instanceof wf.ValidationError);
    assert.ok(back instanceof Error);
    assert.equal(back.name, "ValidationError");
    assert.equal(back.message, "bad");
    assert.equal(back.field, "email");
  });

  it("round-trips an unregistered Error subclass keeping its name and properties", () => {
    class LocalError extends Error {
      override name = "LocalError";
      extra = [1, 2];
    }
    const back = roundTrip(new LocalError("local")) as Error & { extra: number[] };
    assert.ok(back instanceof Error);
    assert.equal(back.name, "LocalError");
    assert.equal(back.message, "local");
    assert.deepEqual(back.extra, [1, 2]);
  });

  it("an error property that cannot be serialized does not hide the error", () => {
    const error = Object.assign(new Error("with callback"), { callback: () => 1 });
    const back = roundTrip(error);
    assert.equal(back.message, "with callback");
    assert.equal(typeof (back as any).callback, "string");
  });

  it("encodes plain data as plain JSON (readable in the database)", () => {
    assert.deepEqual(encodeValue({ a: [1, "x", true, null] }), { a: [1, "x", true, null] });
    assert.deepEqual(decodeValue({ a: [1, "x", true, null] }), { a: [1, "x", true, null] });
  });
});

describe("registered types", () => {
  it("round-trip as instances of their class", () => {
    const back = roundTrip({ p: new wf.Point(1, -2) });
    assert.ok(back.p instanceof wf.Point);
    assert.equal(back.p.norm1(), 3);
    assert.deepEqual(encodeValue(new wf.Point(1, 2)), {
      $t: "custom",
      type: "engine_values.Point",
      v: { x: 1, y: 2 },
    });
  });

  it("hash by their serialized data by default", () => {
    assert.equal(hashValue(new wf.Point(1, 2)), hashValue(new wf.Point(1, 2)));
    assert.notEqual(hashValue(new wf.Point(1, 2)), hashValue(new wf.Point(2, 1)));
    assert.notEqual(
      hashValue(new wf.Point(1, 2)),
      hashValue({ x: 1, y: 2 }),
      "the type name is hashed too",
    );
  });

  it("use their own hash function when given", () => {
    assert.equal(hashValue(new wf.Blob("same", "a")), hashValue(new wf.Blob("same", "b")));
    assert.notEqual(hashValue(new wf.Blob("one", "a")), hashValue(new wf.Blob("two", "a")));
  });

  it("subclasses of a registered class use its handler", () => {
    class Point3 extends wf.Point {}
    const back = roundTrip(new Point3(3, 4));
    assert.ok(back instanceof wf.Point);
    assert.equal(hashValue(new Point3(3, 4)), hashValue(new wf.Point(3, 4)));
  });

  it("a name already used by another class is an error", () => {
    class Other {}
    assert.throws(
      () =>
        registerType(Other, {
          name: "engine_values.Point",
          serialize: () => 1,
          deserialize: () => new Other(),
        }),
      /already used by class Point/,
    );
  });

  it("a value of a type not registered in this process cannot be decoded, clearly", () => {
    assert.throws(
      () => decodeValue({ $t: "custom", type: "nowhere.Thing", v: 1 }),
      /registered type "nowhere.Thing"/,
    );
  });
});

describe("unsupported values", () => {
  function assertUnsupported(fn: () => unknown, pathPattern: RegExp, kindPattern: RegExp) {
    assert.throws(fn, (error: unknown) => {
      assert.ok(
        error instanceof UnsupportedValueError,
        `expected UnsupportedValueError, got ${error}`,
      );
      assert.match(error.message, pathPattern);
      assert.match(error.message, kindPattern);
      return true;
    });
  }

  it("a function is rejected by hashing and encoding, naming its path", () => {
    const value = { a: [1, function helper() {}] };
    assertUnsupported(
      () => hashValue(value, 'argument "x"'),
      /argument "x"\.a\[1\]/,
      /function \(helper\)/,
    );
    assertUnsupported(
      () => encodeValue(value, 'argument "x"'),
      /argument "x"\.a\[1\]/,
      /function \(helper\)/,
    );
  });

  it("an instance of an unregistered class is rejected, naming the class and path", () => {
    class Widget {
      size = 1;
    }
    const value = { parts: { "odd key": new Widget() } };
    assertUnsupported(
      () => hashValue(value),
      /value\.parts\["odd key"\]/,
      /instance of Widget.*registerType/,
    );
    assertUnsupported(
      () => serializeValue(value),
      /value\.parts\["odd key"\]/,
      /instance of Widget/,
    );
  });

  it("a cycle is rejected, naming where it closes", () => {
    const a: any = { name: "a", child: { list: [] as unknown[] } };
    a.child.list.push(a);
    assertUnsupported(() => hashValue(a), /value\.child\.list\[0\]/, /cycle/);
    assertUnsupported(() => encodeValue(a), /value\.child\.list\[0\]/, /cycle/);
  });

  it("symbols and other typed arrays are rejected", () => {
    assertUnsupported(() => hashValue([Symbol("s")]), /value\[0\]/, /symbol/);
    assertUnsupported(() => hashValue(new Float64Array(2)), /value/, /Float64Array/);
    assertUnsupported(() => encodeValue(new Float64Array(2)), /value/, /Float64Array/);
  });

  it("an unsupported task argument fails the run naming the task and argument", async () => {
    await withEnv({}, async ({ scheduler }) => {
      await assert.rejects(scheduler.run(wf.identity({ cb: () => 1 })), (error: unknown) => {
        assert.ok(error instanceof UnsupportedValueError);
        assert.match(error.message, /argument "x" of task "engine_values\.identity"/);
        assert.match(error.message, /\.cb/);
        return true;
      });
      assert.equal(scheduler.status.totals().DONE, 0);
    });
  });
});

describe("values across workers and the database", () => {
  const values: [string, unknown][] = [
    ["numbers", [NaN, -0, 0, Infinity, -Infinity, 1.5]],
    ["bigint", 2n ** 70n],
    ["undefined in structures", { u: undefined, l: [undefined] }],
    ["$t object", { $t: "set", v: [1] }],
    ["Map and Set", new Map<unknown, unknown>([[new Set([1]), { k: [2n] }]])],
    ["Date", new Date(1234567890123)],
    ["RegExp", /x\d+/gi],
    ["Buffer", Buffer.from("bytes")],
    ["Uint8Array", new Uint8Array([5, 6])],
    ["Point", new wf.Point(3, 4)],
    ["nested Points", { pts: [new wf.Point(1, 1), new wf.Point(2, 2)] }],
  ];

  for (const [dialect, mode] of DB_MODES) {
    it(`[${dialect}] every value kind crosses ${mode} workers and is replayed from the database unchanged`, async () => {
      await withDialectEnv(dialect, { mode }, async ({ scheduler, newScheduler }) => {
        const exprs = values.map(([, v]) => wf.identity(v));
        const first = (await scheduler.run(exprs)) as unknown[];
        values.forEach(([label, v], i) => assert.deepStrictEqual(first[i], v, label));
        assert.equal(scheduler.status.count(wf.identity.fullname, "DONE"), values.length);
        const second = newScheduler({ mode });
        const replayed = (await second.run(exprs)) as unknown[];
        assert.equal(second.status.count(wf.identity.fullname, "CACHED"), values.length);
        values.forEach(([label, v], i) => assert.deepStrictEqual(replayed[i], v, label));
      });
    });
  }

  it("workers see arguments with their real types", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const [buf, bytes, point, negZero, map] = await scheduler.run([
        wf.kindOf(Buffer.from([1])),
        wf.kindOf(new Uint8Array([1])),
        wf.kindOf(new wf.Point(-1, 2)),
        wf.kindOf(-0),
        wf.kindOf(new Map()),
      ]);
      assert.equal(buf.isBuffer, true);
      assert.equal(bytes.isBuffer, false);
      assert.equal(bytes.tag, "[object Uint8Array]");
      assert.equal(point.isPoint, true);
      assert.equal(point.norm1, 3);
      assert.equal(negZero.negZero, true);
      assert.equal(map.tag, "[object Map]");
    });
  });

  it("a registered type is a task argument and result", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const moved = await scheduler.run(wf.movePoint(new wf.Point(1, 2), 10));
      assert.ok(moved instanceof wf.Point);
      assert.deepEqual([moved.x, moved.y], [11, 2]);
    });
  });

  it("errors thrown in workers come back with class, message and properties", async () => {
    await withEnv({}, async ({ scheduler }) => {
      await assert.rejects(scheduler.run(wf.failWith("validation")), (error: unknown) => {
        assert.ok(error instanceof wf.ValidationError);
        assert.equal(error.field, "email");
        assert.equal(error.message, "bad field");
        return true;
      });
      await assert.rejects(scheduler.run(wf.failWith("type")), TypeError);
      await assert.rejects(scheduler.run(wf.failWith("plain")), (error: any) => {
        assert.equal(error.message, "plain");
        assert.deepStrictEqual(error.details, { when: new Date(0), tags: new Set(["a"]) });
        return true;
      });
    });
  });
});

describe("cycles, deep nesting and thrown non-Errors through the scheduler", () => {
  function nest(depth: number, list = false): unknown {
    let value: unknown = 0;
    for (let i = 0; i < depth; i++) value = list ? { next: value } : [value];
    return value;
  }

  function rejectsWith(pattern: RegExp) {
    return (error: unknown) => {
      assert.equal((error as Error).name, "UnsupportedValueError", String(error));
      assert.match((error as Error).message, pattern);
      assert.doesNotMatch((error as Error).message, /call stack/);
      return true;
    };
  }

  it("a cyclic argument or result says cycle and where", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const a: any = { name: "a" };
      a.self = a;
      await assert.rejects(
        scheduler.run(wf.identity(a)),
        rejectsWith(/argument "x" of task "engine_values\.identity"\.self: a cycle/),
      );
      await assert.rejects(
        scheduler.run(wf.cyclic()),
        rejectsWith(/result of task "engine_values\.cyclic"\.self: a cycle/),
      );
    });
  });

  for (const list of [false, true]) {
    const kind = list ? "a {next: …} list" : "nested arrays";
    it(`${kind} 100,000 levels deep fails with the depth limit, as argument and result`, async () => {
      await withEnv({}, async ({ scheduler }) => {
        await assert.rejects(
          scheduler.run(wf.depthOf(nest(100_000, list))),
          rejectsWith(/argument "value" of task "engine_values\.depthOf": nested deeper than 1000/),
        );
        await assert.rejects(
          scheduler.run(wf.deep(100_000, list)),
          rejectsWith(/result of task "engine_values\.deep": nested deeper than 1000 levels/),
        );
        // At the limit, values still work.
        assert.equal(await scheduler.run(wf.depthOf(nest(999, list))), 999);
        assert.equal(await scheduler.run(wf.depthOf(wf.deep(999, list))), 999);
      });
    });
  }

  it("hashing and encoding reject a value past the limit by name", () => {
    assert.throws(() => hashValue(nest(5000), "v"), /^UnsupportedValueError: v: nested deeper/);
    assert.throws(() => encodeValue(nest(5000), "v"), /^UnsupportedValueError: v: nested deeper/);
    assert.match(hashValue(nest(1000)), HEX40);
    assert.deepEqual(roundTrip(nest(1000)), nest(1000));
  });

  for (const [dialect, mode] of DB_MODES) {
    it(`[${dialect}] a thrown non-Error keeps its content in the recorded error (${mode})`, async () => {
      await withDialectEnv(dialect, { mode }, async ({ scheduler, query }) => {
        await assert.rejects(scheduler.run(wf.throwData()), (error: any) => {
          assert.match(
            error.message,
            /threw an object, not an Error: \{"a":1,"reason":"not an Error"\}/,
          );
          assert.deepEqual(error.thrown, { a: 1, reason: "not an Error" });
          return true;
        });
        // The bytes as text: CAST in SQLite; PostgreSQL's CAST of bytea would give hex.
        const text = dialect === "sqlite" ? "CAST(value AS TEXT)" : "convert_from(value, 'UTF8')";
        const rows = await query(
          `SELECT value_hash FROM value WHERE ${text} LIKE '%not an Error%'`,
        );
        assert.ok(rows.length > 0, "the error is recorded with its content");
      });
    });
  }
});
