/**
 * Reading database credentials from AWS Secrets Manager (`[backend] db_aws_secret_name`).
 * The SDK is loaded only here, and this module only when a secret is named. The client
 * follows the usual AWS configuration (region, credentials, `AWS_ENDPOINT_URL`).
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { quietAwsSdk } from "./aws.ts";

/** The JSON object stored in a secret (an RDS secret: engine, username, password, …). */
export async function readSecretJson(name: string): Promise<Record<string, unknown>> {
  quietAwsSdk();
  const client = new SecretsManagerClient({});
  let text: string | undefined;
  try {
    const response = await client.send(new GetSecretValueCommand({ SecretId: name }));
    text =
      response.SecretString ??
      (response.SecretBinary ? Buffer.from(response.SecretBinary).toString("utf8") : undefined);
  } catch (error) {
    throw new Error(
      `cannot read the AWS secret "${name}" (db_aws_secret_name): ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    client.destroy();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? "");
  } catch {
    throw new Error(`the AWS secret "${name}" (db_aws_secret_name) is not a JSON object`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new Error(`the AWS secret "${name}" (db_aws_secret_name) is not a JSON object`);
  return parsed as Record<string, unknown>;
}
