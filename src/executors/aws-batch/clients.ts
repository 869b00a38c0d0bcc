/**
 * AWS clients of the Batch executor, one per region, made on first use (the SDK is loaded
 * only when a Batch job runs). Endpoints follow the SDK's own settings, including
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_BATCH` / `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`.
 */
import type { BatchClient } from "@aws-sdk/client-batch";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { getCallerIdentity, type CallerIdentity } from "./identity.ts";

function quietSdk(): void {
  // The SDK's Node-version notice on standard error would break redun's one-line messages.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

/** Clients by region (`""`: the SDK's default region). */
export class AwsClients {
  private readonly batch = new Map<string, Promise<BatchClient>>();
  private readonly logs = new Map<string, Promise<CloudWatchLogsClient>>();
  private readonly identities = new Map<string, Promise<CallerIdentity>>();

  /** @param where - names the executor in error messages. */
  constructor(private readonly where: string) {}

  /** The Batch client of a region. */
  batchClient(region: string): Promise<BatchClient> {
    let client = this.batch.get(region);
    if (!client) {
      client = (async () => {
        quietSdk();
        const { BatchClient } = await import("@aws-sdk/client-batch");
        const made = new BatchClient(region ? { region } : {});
        await this.checkRegion(made);
        return made;
      })();
      this.batch.set(region, client);
      client.catch(() => this.batch.delete(region));
    }
    return client;
  }

  /** The CloudWatch Logs client of a region. */
  logsClient(region: string): Promise<CloudWatchLogsClient> {
    let client = this.logs.get(region);
    if (!client) {
      client = (async () => {
        quietSdk();
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
        const client = await this.batchClient(region);
        const credentials = await client.config.credentials();
        return getCallerIdentity(await client.config.region(), credentials);
      })();
      this.identities.set(region, identity);
    }
    return identity;
  }

  private async checkRegion(client: BatchClient): Promise<void> {
    try {
      await client.config.region();
    } catch {
      throw new Error(
        `${this.where}: no AWS region: set aws_region, or AWS_REGION in the environment`,
      );
    }
  }

  /** Closes every client. */
  async close(): Promise<void> {
    for (const client of [...this.batch.values(), ...this.logs.values()]) {
      (await client.catch(() => undefined))?.destroy();
    }
    this.batch.clear();
    this.logs.clear();
  }
}
