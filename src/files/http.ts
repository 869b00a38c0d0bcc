/**
 * `http://` and `https://` files, read only, through the global `fetch`. A file's hash is
 * its ETag, else its Last-Modified date (with Content-Length), else a digest of its bytes.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { FileNotFoundError, type FileStat, type FileSystem } from "./filesystem.ts";

function httpError(url: string, response: Response): Error {
  return new Error(`${response.status} ${response.statusText} for ${url}`);
}

/** Files served over HTTP(S), read only. */
export class HttpFileSystem implements FileSystem {
  readonly name = "http";
  readonly schemes = ["http", "https"] as const;

  async stat(url: string): Promise<FileStat | undefined> {
    let response = await fetch(url, { method: "HEAD", redirect: "follow" });
    if (response.status === 405 || response.status === 501) {
      // No HEAD here: the headers of a GET, without reading the body.
      response = await fetch(url, { redirect: "follow" });
      await response.body?.cancel();
    }
    if (response.status === 404 || response.status === 410) return undefined;
    if (!response.ok) throw httpError(url, response);
    const length = response.headers.get("content-length");
    const lastModified = response.headers.get("last-modified");
    const mtime = lastModified ? Date.parse(lastModified) : NaN;
    return {
      path: url,
      size: length !== null && /^\d+$/.test(length) ? Number(length) : -1,
      mtimeMs: Number.isNaN(mtime) ? undefined : mtime,
      etag: response.headers.get("etag") ?? undefined,
    };
  }

  readStream(url: string): Readable {
    async function* chunks(): AsyncGenerator<Buffer> {
      const response = await fetch(url, { redirect: "follow" });
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel();
        throw new FileNotFoundError(url);
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw httpError(url, response);
      }
      if (!response.body) return;
      const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
      try {
        for await (const chunk of body) yield chunk as Buffer;
      } finally {
        body.destroy();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }
}

/** The one HTTP(S) filesystem (registered for `http://` and `https://`). */
export const httpFileSystem = new HttpFileSystem();
