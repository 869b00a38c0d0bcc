/**
 * `s3://bucket/key` files, through the AWS SDK v3 — loaded on first use (dynamic `import()`),
 * so `import "redun"` does not pay for it.
 *
 * The client follows the usual AWS configuration (environment, profiles, roles). With
 * `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` set (a local S3-compatible server such as
 * moto or MinIO), buckets are addressed by path. {@link configureS3} overrides any of this.
 *
 * Uploads go through `@aws-sdk/lib-storage` (multipart in 8 MiB parts, two at a time),
 * downloads are streamed: no file is ever held whole in memory.
 */
import { PassThrough, Readable, Writable } from "node:stream";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import {
  FileNotFoundError,
  type FileStat,
  type FileSystem,
  type ListOptions,
} from "./filesystem.ts";

/** How redun's S3 client is made. */
export interface S3Options {
  /** Endpoint URL (default: `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else AWS). */
  endpoint?: string;
  /** Address buckets by path (default: true when an endpoint is set). */
  forcePathStyle?: boolean;
  /** Region (default: the SDK's: `AWS_REGION`, profile, …; `us-east-1` if none). */
  region?: string;
  /** Any other S3 client settings. */
  clientConfig?: S3ClientConfig;
  /** A ready client (all other settings are then ignored). */
  client?: S3Client;
  /** Multipart upload part size in bytes (default 8 MiB, at least 5 MiB). */
  partSize?: number;
}

const MiB = 1024 * 1024;

/** Splits `s3://bucket/key`. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(uri);
  if (!match) throw new Error(`not an S3 URI (s3://bucket/key): "${uri}"`);
  return { bucket: match[1]!, key: match[2]! };
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

/** Puts the URI in front of an SDK error's message (in place: its class and fields stay). */
function withUri(uri: string, error: unknown): unknown {
  if (error instanceof Error && !error.message.includes(uri)) {
    error.message = `${uri}: ${error.message}`;
  }
  return error;
}

function cleanEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, "");
}

/** Keys in CopySource are URL-encoded (slashes kept). */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, "/")}`;
}

type Sdk = typeof import("@aws-sdk/client-s3");

/** Files in S3 buckets. */
export class S3FileSystem implements FileSystem {
  readonly name = "s3";
  readonly schemes = ["s3"] as const;
  private options: S3Options = {};
  private clientPromise: Promise<S3Client> | undefined;
  private sdkPromise: Promise<Sdk> | undefined;

  /** Changes how the client is made; the next request makes a new one. */
  configure(options: S3Options): void {
    this.options = { ...options };
    this.clientPromise = undefined;
  }

  private sdk(): Promise<Sdk> {
    // The SDK tells Node 20 users on standard error that later versions will need Node 22;
    // that would break redun's one-line messages. The SDK's own switch turns it off (an
    // explicit setting of the variable is respected).
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    return (this.sdkPromise ??= import("@aws-sdk/client-s3"));
  }

  /** The S3 client (made on first use). */
  client(): Promise<S3Client> {
    return (this.clientPromise ??= (async () => {
      if (this.options.client) return this.options.client;
      const { S3Client } = await this.sdk();
      const endpoint =
        this.options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
      const region =
        this.options.region ??
        process.env.AWS_REGION ??
        process.env.AWS_DEFAULT_REGION ??
        (endpoint ? "us-east-1" : undefined);
      return new S3Client({
        ...(endpoint ? { endpoint } : {}),
        ...(region ? { region } : {}),
        forcePathStyle: this.options.forcePathStyle ?? Boolean(endpoint),
        ...this.options.clientConfig,
      });
    })());
  }

  /** Sends a command about `uri`; an error names the URI (the SDK's messages do not). */
  private async send<T>(uri: string, make: (sdk: Sdk) => any): Promise<T> {
    const [sdk, client] = await Promise.all([this.sdk(), this.client()]);
    try {
      return (await client.send(make(sdk))) as T;
    } catch (error) {
      throw withUri(uri, error);
    }
  }

  async stat(uri: string): Promise<FileStat | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    if (!key) return undefined;
    try {
      const head = await this.send<{ ContentLength?: number; LastModified?: Date; ETag?: string }>(
        uri,
        (s) => new s.HeadObjectCommand({ Bucket: bucket, Key: key }),
      );
      return {
        path: uri,
        size: head.ContentLength ?? -1,
        mtimeMs: head.LastModified?.getTime(),
        etag: cleanEtag(head.ETag),
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  readStream(uri: string): Readable {
    const { bucket, key } = parseS3Uri(uri);
    const self = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      let body: (Readable & { destroy?: () => void }) | undefined;
      try {
        const response = await self.send<{ Body?: Readable }>(
          uri,
          (s) => new s.GetObjectCommand({ Bucket: bucket, Key: key }),
        );
        body = response.Body;
        if (!body) return;
        for await (const chunk of body) yield chunk as Buffer;
      } catch (error) {
        if (isNotFound(error)) throw new FileNotFoundError(uri);
        throw error;
      } finally {
        body?.destroy?.();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  writeStream(uri: string): Writable {
    const { bucket, key } = parseS3Uri(uri);
    const pass = new PassThrough();
    const partSize = Math.max(5 * MiB, this.options.partSize ?? 8 * MiB);
    const upload = (async () => {
      const [{ Upload }, client] = await Promise.all([
        import("@aws-sdk/lib-storage"),
        this.client(),
      ]);
      await new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: pass },
        partSize,
        queueSize: 2,
      }).done();
    })().catch((error: unknown) => {
      throw withUri(uri, error);
    });
    const writable = new Writable({
      write(chunk, _encoding, callback) {
        if (pass.write(chunk)) callback();
        else pass.once("drain", () => callback());
      },
      final(callback) {
        pass.end();
        upload.then(() => callback(), callback);
      },
      destroy(error, callback) {
        if (error) pass.destroy(error);
        callback(error);
      },
    });
    // An upload that fails early (no such bucket) must not leave a writer waiting for `drain`.
    upload.catch((error) => writable.destroy(error));
    return writable;
  }

  async write(uri: string, data: Uint8Array): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    if (data.byteLength > 5 * MiB) {
      const stream = this.writeStream(uri);
      const { pipeline } = await import("node:stream/promises");
      await pipeline(Readable.from([Buffer.from(data)]), stream);
      return;
    }
    await this.send(uri, (s) => new s.PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
  }

  async remove(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    await this.send(uri, (s) => new s.DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  /** Removes every object under a prefix (a "directory"). */
  async removeDir(uri: string): Promise<void> {
    const { bucket } = parseS3Uri(uri);
    const files = await this.list(uri, { recursive: true });
    for (let i = 0; i < files.length; i += 1000) {
      const batch = files.slice(i, i + 1000).map((f) => ({ Key: parseS3Uri(f.path).key }));
      await this.send(
        uri,
        (s) => new s.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch } }),
      );
    }
  }

  async copy(src: string, dest: string): Promise<void> {
    const from = parseS3Uri(src);
    const to = parseS3Uri(dest);
    const stat = await this.stat(src);
    if (!stat) throw new FileNotFoundError(src);
    if (stat.size > 5 * 1024 * MiB) {
      // CopyObject takes at most 5 GiB: stream through this process instead.
      const { pipeline } = await import("node:stream/promises");
      await pipeline(this.readStream(src), this.writeStream(dest));
      return;
    }
    await this.send(
      dest,
      (s) =>
        new s.CopyObjectCommand({
          Bucket: to.bucket,
          Key: to.key,
          CopySource: copySource(from.bucket, from.key),
        }),
    );
  }

  async touch(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    if (!(await this.stat(uri))) {
      await this.send(uri, (s) => new s.PutObjectCommand({ Bucket: bucket, Key: key, Body: "" }));
      return;
    }
    await this.send(
      uri,
      (s) =>
        new s.CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: copySource(bucket, key),
          MetadataDirective: "REPLACE",
        }),
    );
  }

  async list(uri: string, options: ListOptions = {}): Promise<FileStat[]> {
    const { bucket, key } = parseS3Uri(uri);
    const prefix = key && !key.endsWith("/") ? `${key}/` : key;
    const recursive = options.recursive !== false;
    const out: FileStat[] = [];
    let token: string | undefined;
    do {
      const page = await this.send<{
        Contents?: { Key?: string; Size?: number; LastModified?: Date; ETag?: string }[];
        CommonPrefixes?: { Prefix?: string }[];
        IsTruncated?: boolean;
        NextContinuationToken?: string;
      }>(
        uri,
        (s) =>
          new s.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix || undefined,
            Delimiter: recursive ? undefined : "/",
            ContinuationToken: token,
          }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key || object.Key.endsWith("/")) continue;
        out.push({
          path: `s3://${bucket}/${object.Key}`,
          size: object.Size ?? -1,
          mtimeMs: object.LastModified?.getTime(),
          etag: cleanEtag(object.ETag),
        });
      }
      for (const common of page.CommonPrefixes ?? []) {
        if (!common.Prefix) continue;
        out.push({
          path: `s3://${bucket}/${common.Prefix.replace(/\/$/, "")}`,
          size: 0,
          isDirectory: true,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/** The one S3 filesystem (registered for `s3://`). */
export const s3FileSystem = new S3FileSystem();

/**
 * Configures how redun reaches S3 (endpoint, path-style addressing, region, or a ready
 * client). Takes effect for the next request in this process; workers read the same
 * environment variables, so prefer those (`AWS_ENDPOINT_URL`) when tasks run on a pool.
 */
export function configureS3(options: S3Options): void {
  s3FileSystem.configure(options);
}
