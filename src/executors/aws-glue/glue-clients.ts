/**
 * AWS clients of the Glue executor, one per region, made on first use (see
 * ../aws/regional-clients.ts): Glue, CloudWatch Logs and the caller's identity.
 */
import type { GlueClient } from "@aws-sdk/client-glue";
import { RegionalClients } from "../aws/regional-clients.ts";

/** Glue and CloudWatch Logs clients by region (`""`: the SDK's default region). */
export class GlueClients extends RegionalClients<GlueClient> {
  /** @param where - names the executor in error messages. */
  constructor(where: string) {
    super(where, async (region) => {
      const { GlueClient } = await import("@aws-sdk/client-glue");
      return new GlueClient(region ? { region } : {});
    });
  }

  /** The Glue client of a region. */
  glueClient(region: string): Promise<GlueClient> {
    return this.client(region);
  }
}
