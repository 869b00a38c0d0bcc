/**
 * The CloudWatch Logs of a Batch job (group `/aws/batch/job`, stream named in the job's
 * description): the last lines are added to the error of a failed job.
 */
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { JobDetail } from "@aws-sdk/client-batch";

/** Where AWS Batch sends container output (unless the job definition says otherwise). */
export const BATCH_LOG_GROUP = "/aws/batch/job";

/** The log stream of a job's last attempt, if it got one. */
export function logStreamOf(detail: JobDetail): string | undefined {
  const attempts = detail.attempts ?? [];
  return (
    detail.container?.logStreamName ??
    attempts[attempts.length - 1]?.container?.logStreamName ??
    undefined
  );
}

/**
 * The last `lines` lines of a job's log, or `undefined` when there is no log (the job never
 * started, or the log is not readable: reading logs must never hide the job's failure).
 */
export async function readLogTail(
  client: CloudWatchLogsClient,
  detail: JobDetail,
  lines = 50,
): Promise<string[] | undefined> {
  const stream = logStreamOf(detail);
  if (!stream) return undefined;
  try {
    const { GetLogEventsCommand } = await import("@aws-sdk/client-cloudwatch-logs");
    const { events = [] } = await client.send(
      new GetLogEventsCommand({
        logGroupName: BATCH_LOG_GROUP,
        logStreamName: stream,
        startFromHead: false,
        limit: lines,
      }),
    );
    return events.map((e) => (e.message ?? "").replace(/\s+$/, "")).slice(-lines);
  } catch {
    return undefined;
  }
}
