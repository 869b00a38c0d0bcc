/**
 * AWS clients of the Batch executor, one per region, made on first use (see
 * ../aws/regional-clients.ts): Batch, CloudWatch Logs and the caller's identity.
 */
import type { BatchClient } from "@aws-sdk/client-batch";
import { RegionalClients } from "../aws/regional-clients.ts";

/** Batch and CloudWatch Logs clients by region (`""`: the SDK's default region). */
export class AwsClients extends RegionalClients<BatchClient> {
  /** @param where - names the executor in error messages. */
  constructor(where: string) {
    super(where, async (region) => {
      const { BatchClient } = await import("@aws-sdk/client-batch");
      return new BatchClient(region ? { region } : {});
    });
  }

  /** The Batch client of a region. */
  batchClient(region: string): Promise<BatchClient> {
    return this.client(region);
  }
}
