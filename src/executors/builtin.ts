/** Registers the executor types that ship with redun (each registers itself on import). */
import "./local/local.ts";
import "./alias.ts";
import "./docker/docker.ts";
import "./aws-batch/aws-batch.ts";
