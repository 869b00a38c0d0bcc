/**
 * Checks a JSON argument from the command line against the shape its parameter's annotation
 * promises (a {@link JsonShape}, read by src/api/source-shapes.ts), so that
 * `--opts '{"a":1}'` for `opts: {a: string}` is refused before the task runs, with the place
 * in the value that is wrong and what was expected there.
 */
import type { JsonShape } from "../api/source-params.ts";

/** How deep a value is followed (deeper parts are accepted as they are). */
const MAX_DEPTH = 64;

/**
 * What is wrong with a value for a shape, or `undefined` when it fits: one phrase such as
 * `at .a: expected a string, got 1` or `missing property "name": a string`, or `""` when
 * the value as a whole is of another kind (nothing to add to "expected TYPE").
 */
export function shapeProblem(value: unknown, shape: JsonShape): string | undefined {
  const problem = check(value, shape, "", 0);
  if (!problem) return undefined;
  if (problem.whole && !problem.path) return "";
  return problem.path ? `at ${problem.path}: ${problem.text}` : problem.text;
}

/** A type as messages show it: `{a: string, b?: number}`, `[string, number]`, `"x" | "y"`. */
export function describeShape(shape: JsonShape, depth = 0): string {
  if (depth > 3) return "…";
  const d = (s: JsonShape) => describeShape(s, depth + 1);
  switch (shape.kind) {
    case "any":
      return "any";
    case "string":
    case "number":
    case "boolean":
    case "null":
      return shape.kind;
    case "literal":
      return JSON.stringify(shape.value);
    case "array": {
      const element = d(shape.element);
      return shape.element.kind === "union" ? `(${element})[]` : `${element}[]`;
    }
    case "tuple": {
      const items = shape.elements.map((e, i) => (i < shape.required ? d(e) : `${d(e)}?`));
      if (shape.rest) items.push(`...${d({ kind: "array", element: shape.rest })}`);
      return `[${items.join(", ")}]`;
    }
    case "object": {
      const items = shape.fields.map((f) => `${f.name}${f.optional ? "?" : ""}: ${d(f.shape)}`);
      if (shape.rest) items.push(`[key: string]: ${d(shape.rest)}`);
      return `{${items.join(", ")}}`;
    }
    case "union":
      return shape.members.map(d).join(" | ");
  }
}

interface Problem {
  path: string;
  text: string;
  /** The value is not of the shape at all (rather than a part of it being wrong). */
  whole?: boolean;
}

/** `a string`, `an object {a: string}`, `"x"`: what a shape wants, in words. */
function wanted(shape: JsonShape): string {
  switch (shape.kind) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    case "null":
      return "null";
    case "array":
      return `an array (${describeShape(shape)})`;
    case "tuple":
      return `an array ${describeShape(shape)}`;
    case "object":
      return `an object ${describeShape(shape)}`;
    default:
      return describeShape(shape);
  }
}

/** A value in a message: JSON, cut short. */
export function showValue(value: unknown): string {
  const text = value === undefined ? "nothing" : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function check(value: unknown, shape: JsonShape, path: string, depth: number): Problem | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const fail = (): Problem => ({
    path,
    text: `expected ${wanted(shape)}, got ${showValue(value)}`,
    whole: true,
  });
  switch (shape.kind) {
    case "any":
      return undefined;
    case "string":
    case "number":
    case "boolean":
      return typeof value === shape.kind ? undefined : fail();
    case "null":
      return value === null || value === undefined ? undefined : fail();
    case "literal":
      return value === shape.value ? undefined : fail();
    case "array":
      if (!Array.isArray(value)) return fail();
      for (let i = 0; i < value.length; i++) {
        const problem = check(value[i], shape.element, `${path}[${i}]`, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    case "tuple": {
      if (!Array.isArray(value)) return fail();
      const most = shape.rest ? Infinity : shape.elements.length;
      if (value.length < shape.required || value.length > most) {
        const count =
          shape.required === most
            ? `${most}`
            : most === Infinity
              ? `at least ${shape.required}`
              : `${shape.required} to ${most}`;
        return {
          path,
          text: `expected ${count} element${count === "1" ? "" : "s"}, got ${value.length}`,
        };
      }
      for (let i = 0; i < value.length; i++) {
        const element = shape.elements[i] ?? shape.rest!;
        const problem = check(value[i], element, `${path}[${i}]`, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    case "object": {
      if (!isObject(value)) return fail();
      const names = new Set(shape.fields.map((f) => f.name));
      for (const field of shape.fields) {
        if (!Object.hasOwn(value, field.name)) {
          if (field.optional) continue;
          return {
            path,
            text: `missing property "${field.name}": ${wanted(field.shape)}`,
          };
        }
        const problem = check(value[field.name], field.shape, keyPath(path, field.name), depth + 1);
        if (problem) return problem;
      }
      for (const key of Object.keys(value)) {
        if (names.has(key)) continue;
        if (!shape.rest) {
          const known = [...names].map((n) => `"${n}"`).join(", ");
          return {
            path,
            text: `unknown property "${key}", ${known ? `expected only ${known}` : "expected none"}`,
          };
        }
        const problem = check(value[key], shape.rest, keyPath(path, key), depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    case "union": {
      const problems: Problem[] = [];
      for (const member of shape.members) {
        const problem = check(value, member, path, depth);
        if (!problem) return undefined;
        problems.push(problem);
      }
      // One member of the value's own kind (the only object type, say): its problem is the
      // most telling; otherwise the union as a whole is what was expected.
      let candidates = shape.members
        .map((m, i) => ({ m, i }))
        .filter(({ m }) => sameJsonKind(value, m));
      // Objects told apart by a literal property (`{kind: "a"} | {kind: "b", n: number}`).
      if (candidates.length > 1 && isObject(value)) {
        const tagged = candidates.filter(({ m }) => literalsMatch(value, m));
        if (tagged.length > 0) candidates = tagged;
      }
      return candidates.length === 1 ? problems[candidates[0]!.i] : fail();
    }
  }
}

/** Whether every literal-typed property of an object shape has its value in `value`. */
function literalsMatch(value: Record<string, unknown>, shape: JsonShape): boolean {
  if (shape.kind !== "object") return false;
  const literals = shape.fields.filter((f) => f.shape.kind === "literal");
  return (
    literals.length > 0 &&
    literals.every((f) => f.shape.kind === "literal" && value[f.name] === f.shape.value)
  );
}

function sameJsonKind(value: unknown, shape: JsonShape): boolean {
  switch (shape.kind) {
    case "array":
    case "tuple":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    default:
      return false;
  }
}
