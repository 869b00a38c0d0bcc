/** The options of `[executors.NAME]` sections of `type = docker`, with their defaults. */
import type { OptionSchema, OptionValues } from "../../config/option-schema.ts";
import { CODE_PACKAGE, VCPUS, GPUS, MEMORY } from "../remote/schema-parts.ts";

/** `type = docker`: each job in a local container. */
export const DOCKER_SCHEMA = {
  image: { type: "string", required: true, description: "Default Docker image" },
  scratch: {
    type: "string",
    required: true,
    isPath: true, // relative to the configuration directory, per the document
    description: "Scratch directory mounted into containers",
  },
  vcpus: VCPUS,
  gpus: GPUS,
  memory: MEMORY,
  interactive: {
    type: "bool",
    default: false,
    description: "Run containers interactively (output to the terminal)",
  },
  // Ours: `docker run --network` (e.g. `host` to reach services on this machine).
  network: {
    type: "string",
    default: undefined,
    description: "Docker network of the containers (docker run --network)",
  },
  // Not in the document's docker section: docker jobs use the same remote protocol and
  // code packaging as the other remote executors.
  ...CODE_PACKAGE,
} satisfies OptionSchema;

/** Parsed options of a docker executor. */
export type DockerOptions = OptionValues<typeof DOCKER_SCHEMA>;
