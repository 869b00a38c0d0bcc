/**
 * The value store on S3: `s3://bucket/prefix/HASH`. Follows the usual AWS configuration;
 * with `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) set, addresses buckets by path, as
 * local S3-compatible servers need.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { quietAwsSdk } from "./aws.ts";
import { checkStoreKey, type ValueStore } from "./value-store-base.ts";

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

/** Values as objects under an S3 prefix. */
export class S3ValueStore implements ValueStore {
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;

  constructor(readonly location: string) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
    if (!match) throw new Error(`value_store_path "${location}" is not an s3://bucket/prefix`);
    this.bucket = match[1]!;
    this.prefix = match[2] && !match[2].endsWith("/") ? `${match[2]}/` : (match[2] ?? "");
    quietAwsSdk();
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    this.client = new S3Client({ forcePathStyle: Boolean(endpoint) });
  }

  private key(valueHash: string): string {
    return this.prefix + checkStoreKey(valueHash);
  }

  async put(valueHash: string, bytes: Uint8Array): Promise<void> {
    if (await this.has(valueHash)) return;
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.key(valueHash), Body: bytes }),
    );
  }

  async get(valueHash: string): Promise<Buffer | undefined> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(valueHash) }),
      );
      return Buffer.from(await response.Body!.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async has(valueHash: string): Promise<boolean> {
    try {
      await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(valueHash) }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
