/**
 * AWS clients of the Glue executor, one per region, made on first use (the SDK loads only
 * when a Glue job runs). Endpoints follow the SDK's own settings, including
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_GLUE` / `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`.
 */
import type { GlueClient } from "@aws-sdk/client-glue";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { getCallerIdentity, type CallerIdentity } from "../aws-batch/identity.ts";

/** Glue and CloudWatch Logs clients by region (`""`: the SDK's default region). */
export class GlueClients {
  private readonly glue = new Map<string, Promise<GlueClient>>();
  private readonly logs = new Map<string, Promise<CloudWatchLogsClient>>();
  private readonly identities = new Map<string, Promise<CallerIdentity>>();

  /** @param where - names the executor in error messages. */
  constructor(private readonly where: string) {}

  /** The Glue client of a region. */
  glueClient(region: string): Promise<GlueClient> {
    let client = this.glue.get(region);
    if (!client) {
      client = (async () => {
        // The SDK's Node-version notice on standard error would break one-line messages.
        process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
        const { GlueClient } = await import("@aws-sdk/client-glue");
        const made = new GlueClient(region ? { region } : {});
        try {
          await made.config.region();
        } catch {
          throw new Error(
            `${this.where}: no AWS region: set aws_region, or AWS_REGION in the environment`,
          );
        }
        return made;
      })();
      this.glue.set(region, client);
      client.catch(() => this.glue.delete(region));
    }
    return client;
  }

  /** The CloudWatch Logs client of a region. */
  logsClient(region: string): Promise<CloudWatchLogsClient> {
    let client = this.logs.get(region);
    if (!client) {
      client = (async () => {
        const { CloudWatchLogsClient } = await import("@aws-sdk/client-cloudwatch-logs");
        return new CloudWatchLogsClient(region ? { region } : {});
      })();
      this.logs.set(region, client);
    }
    return client;
  }

  /** Who the credentials belong to (asked once per region). */
  identity(region: string): Promise<CallerIdentity> {
    let identity = this.identities.get(region);
    if (!identity) {
      identity = (async () => {
        const client = await this.glueClient(region);
        const credentials = await client.config.credentials();
        return getCallerIdentity(await client.config.region(), credentials);
      })();
      this.identities.set(region, identity);
      identity.catch(() => this.identities.delete(region));
    }
    return identity;
  }

  /** Closes every client. */
  async close(): Promise<void> {
    for (const client of [...this.glue.values(), ...this.logs.values()]) {
      (await client.catch(() => undefined))?.destroy();
    }
    this.glue.clear();
    this.logs.clear();
  }
}
