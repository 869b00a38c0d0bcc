/** What the backend's AWS clients (Secrets Manager, the S3 value store) share. */

/**
 * Silences the SDK's notice that its future versions will need Node 22 (redun supports
 * Node 20): printed on standard error, it would break redun's one-line error messages.
 * An explicit setting of the variable is respected.
 */
export function quietAwsSdk(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
