/**
 * Reading recorded values for display: a value whose type this process cannot decode (a
 * user class whose module is not loaded, a task whose workflow is not imported) becomes an
 * {@link OpaqueValue} that shows as `<acme.Thing: 123 bytes>`, so provenance queries work on
 * every record whatever types its values hold.
 */
import { decodeValue, registerDecoder, type Wire } from "../values/serialize.ts";

const OPAQUE_TAG = "redun.opaque";

/** A recorded value (or part of one) this process cannot decode, shown by type and size. */
export class OpaqueValue {
  constructor(
    /** The registered type name (`acme.Thing`), or `redun.TAG` for an engine value. */
    readonly type: string,
    /** Size of its serialized form, in bytes. */
    readonly size: number,
    /** Why it could not be decoded. */
    readonly reason: string,
  ) {}

  toString(): string {
    return `<${this.type}: ${this.size} bytes>`;
  }

  /** How `util.inspect` (and so `redun log`) shows it. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

registerDecoder(OPAQUE_TAG, (data: { type: string; size: number; reason: string }) => {
  return new OpaqueValue(data.type, data.size, data.reason);
});

function isTagged(wire: Wire): wire is { $t: string; [key: string]: Wire } {
  return (
    wire !== null &&
    typeof wire === "object" &&
    !Array.isArray(wire) &&
    typeof (wire as { $t?: unknown }).$t === "string"
  );
}

/**
 * The wire data with every part that cannot be decoded replaced by an opaque marker.
 * Containers (arrays, objects, maps, sets, an error's properties) are walked; any other
 * tagged part is tried on its own.
 */
function replaceUndecodable(wire: Wire): Wire {
  if (wire === null || typeof wire !== "object") return wire;
  if (Array.isArray(wire)) return wire.map(replaceUndecodable);
  if (!isTagged(wire)) {
    return Object.fromEntries(Object.entries(wire).map(([k, v]) => [k, replaceUndecodable(v)]));
  }
  const w = wire as Record<string, any>;
  switch (w.$t) {
    case "obj":
    case "map":
    case "set":
      return { ...w, v: replaceUndecodable(w.v) };
    case "error":
      return { ...w, props: replaceUndecodable(w.props ?? {}) };
  }
  try {
    decodeValue(wire);
    return wire;
  } catch (error) {
    const type =
      w.$t === "custom" && typeof w.type === "string"
        ? w.type
        : w.$t === "task" && typeof w.v?.name === "string"
          ? `redun.task ${w.v.name}`
          : `redun.${w.$t}`;
    const reason = error instanceof Error ? error.message : String(error);
    const size = Buffer.byteLength(JSON.stringify(wire), "utf8");
    return { $t: OPAQUE_TAG, v: { type, size, reason } };
  }
}

/**
 * Decodes recorded wire data for display: like `decodeValue`, except that parts this
 * process cannot decode become {@link OpaqueValue}s instead of errors.
 */
export function decodeForDisplay(wire: Wire): unknown {
  try {
    return decodeValue(wire);
  } catch {
    try {
      return decodeValue(replaceUndecodable(wire));
    } catch (error) {
      // Malformed data: still something to show.
      const size = Buffer.byteLength(JSON.stringify(wire), "utf8");
      return new OpaqueValue("unreadable", size, (error as Error).message);
    }
  }
}
