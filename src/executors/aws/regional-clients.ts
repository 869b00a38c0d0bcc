/**
 * AWS SDK clients of an executor, one per region, made on first use (the SDK loads only when
 * a job runs): the executor's own service (Batch, Glue, …), CloudWatch Logs for failed jobs'
 * logs, and who the credentials belong to. Endpoints follow the SDK's own settings, including
 * `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_*`.
 */
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { getCallerIdentity, type CallerIdentity } from "./identity.ts";

/** What redun needs of an SDK client. */
interface SdkClient {
  config: { region(): Promise<string>; credentials(): Promise<unknown> };
  destroy(): void;
}

/** A promise per key, made once; a failed one is forgotten, so the next call tries again. */
function once<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = make();
    cache.set(key, value);
    value.catch(() => cache.delete(key));
  }
  return value;
}

/** Clients by region (`""`: the SDK's default region). */
export class RegionalClients<Client extends SdkClient> {
  private readonly main = new Map<string, Promise<Client>>();
  private readonly logs = new Map<string, Promise<CloudWatchLogsClient>>();
  private readonly identities = new Map<string, Promise<CallerIdentity>>();

  /**
   * @param where - names the executor in error messages.
   * @param make - the service's client for a region (`undefined`: the default region).
   */
  constructor(
    private readonly where: string,
    private readonly make: (region: string | undefined) => Promise<Client>,
  ) {}

  /** The service's client of a region. */
  client(region: string): Promise<Client> {
    return once(this.main, region, async () => {
      quietSdk();
      const made = await this.make(region || undefined);
      try {
        await made.config.region();
      } catch {
        throw new Error(
          `${this.where}: no AWS region: set aws_region, or AWS_REGION in the environment`,
        );
      }
      return made;
    });
  }

  /** The CloudWatch Logs client of a region. */
  logsClient(region: string): Promise<CloudWatchLogsClient> {
    return once(this.logs, region, async () => {
      quietSdk();
      const { CloudWatchLogsClient } = await import("@aws-sdk/client-cloudwatch-logs");
      return new CloudWatchLogsClient(region ? { region } : {});
    });
  }

  /** Who the credentials belong to (asked once per region). */
  identity(region: string): Promise<CallerIdentity> {
    return once(this.identities, region, async () => {
      const client = await this.client(region);
      const credentials = (await client.config.credentials()) as Parameters<
        typeof getCallerIdentity
      >[1];
      return getCallerIdentity(await client.config.region(), credentials);
    });
  }

  /** Closes every client. */
  async close(): Promise<void> {
    for (const client of [...this.main.values(), ...this.logs.values()]) {
      (await client.catch(() => undefined))?.destroy();
    }
    this.main.clear();
    this.logs.clear();
  }
}

/** The SDK's Node-version notice on standard error would break redun's one-line messages. */
function quietSdk(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
