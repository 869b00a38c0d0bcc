/**
 * The CloudWatch Logs of a Glue job run: Glue writes the driver's standard error to
 * `/aws-glue/jobs/error` and its standard output to `/aws-glue/jobs/output`, in a stream
 * named by the run id. The last lines are added to the error of a failed run.
 */
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";

/** Where Glue sends a job run's output (standard error first: it says why a run failed). */
export const GLUE_LOG_GROUPS = ["/aws-glue/jobs/error", "/aws-glue/jobs/output"] as const;

/**
 * The last `lines` lines of a run's logs (each group's tail, error first), or `undefined`
 * when there is none readable: reading logs must never hide the run's failure.
 */
export async function readGlueLogTail(
  client: CloudWatchLogsClient,
  runId: string,
  lines = 50,
): Promise<string | undefined> {
  const { GetLogEventsCommand } = await import("@aws-sdk/client-cloudwatch-logs");
  const parts: string[] = [];
  for (const group of GLUE_LOG_GROUPS) {
    try {
      const { events = [] } = await client.send(
        new GetLogEventsCommand({
          logGroupName: group,
          logStreamName: runId,
          startFromHead: false,
          limit: lines,
        }),
      );
      const text = events.map((e) => (e.message ?? "").replace(/\s+$/, "")).slice(-lines);
      if (text.length > 0) parts.push(`(${group})`, ...text);
    } catch {
      // no such group or stream
    }
  }
  return parts.length > 0 ? parts.join("\n") : undefined;
}
