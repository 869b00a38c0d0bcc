/**
 * `sts:GetCallerIdentity`, for the `redun_aws_user` tag and the default job role
 * (`arn:aws:iam::ACCOUNT:role/ecsTaskExecutionRole`). redun does not depend on the STS
 * client, so this one request is signed here (Signature Version 4) with the credentials
 * the Batch client resolved.
 */
import { createHash, createHmac } from "node:crypto";

/** Who the AWS credentials belong to. */
export interface CallerIdentity {
  account: string;
  arn: string;
}

/** AWS credentials as the SDK resolves them. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const sha256 = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: Buffer | string, data: string) =>
  createHmac("sha256", key).update(data, "utf8").digest();

/** The STS endpoint: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, or the regional one. */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL ?? `https://sts.${region}.amazonaws.com`;
}

/** Signs a form POST to `url` (SigV4); returns the headers to send. */
export function signPost(
  url: URL,
  body: string,
  service: string,
  region: string,
  credentials: Credentials,
  now = new Date(),
): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    host: url.host,
    "x-amz-content-sha256": sha256(body),
    "x-amz-date": amzDate,
    ...(credentials.sessionToken ? { "x-amz-security-token": credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    "POST",
    url.pathname || "/",
    "",
    ...names.map((n) => `${n}:${headers[n]!.trim()}`),
    "",
    names.join(";"),
    headers["x-amz-content-sha256"],
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), service),
    "aws4_request",
  );
  const signature = createHmac("sha256", key).update(toSign, "utf8").digest("hex");
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return headers;
}

/** Asks STS who the credentials belong to. */
export async function getCallerIdentity(
  region: string,
  credentials: Credentials,
): Promise<CallerIdentity> {
  const url = new URL(stsEndpoint(region));
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  const body = "Action=GetCallerIdentity&Version=2011-06-15";
  const response = await fetch(url, {
    method: "POST",
    headers: signPost(url, body, "sts", region, credentials),
    body,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  const account = /<Account>([^<]+)<\/Account>/.exec(text)?.[1];
  if (!response.ok || !arn || !account) {
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${response.status}`;
    throw new Error(`sts:GetCallerIdentity failed (${code})`);
  }
  return { arn, account };
}
