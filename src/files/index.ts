/**
 * `redun/files`: filesystems behind `File` and `Dir` values. Register your own scheme
 * (`registerFileSystem`), look one up, or configure S3 (an endpoint, a region). The values
 * themselves (`File`, `Dir`, `glob`) and script tasks come with `redun`.
 *
 * @packageDocumentation
 */
export {
  registerFileSystem,
  getFileSystem,
  FileNotFoundError,
  ReadOnlyFileSystemError,
  type FileSystem,
  type FileStat,
  type ListOptions,
} from "./filesystem.ts";
export { LocalFileSystem } from "./local-fs.ts";
export { S3FileSystem, configureS3, type S3Options } from "./s3.ts";
export { HttpFileSystem } from "./http.ts";
