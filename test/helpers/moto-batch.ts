/**
 * A local AWS Batch for tests: moto_server (S3, Batch, IAM, STS, CloudWatch Logs on
 * 127.0.0.1) whose Batch really runs jobs as containers on a private dockerd, from a local
 * image with node and the redun package (test/helpers/docker.ts), on the host network so
 * the containers reach moto at 127.0.0.1.
 *
 * @example
 * const env = await startMotoBatch();          // throws DockerUnavailableError
 * after(() => env.stop());
 * // env.env: AWS_ENDPOINT_URL, credentials, region (for `redun run`);
 * // env.queue, env.image, env.bucket, env.roleArn; env.batch / env.logs / env.s3 clients.
 */
import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
} from "@aws-sdk/client-batch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { buildTestImage, ensureDocker, type DockerDaemon } from "./docker.ts";
import { startMoto, type Moto } from "./moto.ts";

/** A running moto Batch environment. */
export interface MotoBatch {
  moto: Moto;
  docker: DockerDaemon;
  /** The local image with node and redun (`redun` on PATH, working directory /app). */
  image: string;
  queue: string;
  roleArn: string;
  bucket: string;
  /** AWS settings pointing at moto (endpoint, fake credentials, region), and DOCKER_HOST. */
  env: Record<string, string>;
  batch: BatchClient;
  logs: CloudWatchLogsClient;
  s3: S3Client;
  stop(): Promise<void>;
}

/**
 * Calls moto's query API (IAM, STS): moto picks the service from the credential scope of
 * the Authorization header and does not check the signature.
 */
export async function motoQuery(
  endpoint: string,
  service: string,
  params: Record<string, string>,
): Promise<string> {
  const response = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams(params),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`moto ${service} ${params.Action}: HTTP ${response.status}: ${text}`);
  return text;
}

/** Starts dockerd (or uses the shared one), the test image, moto with Batch on Docker, a queue. */
export async function startMotoBatch(): Promise<MotoBatch> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const docker = await ensureDocker();
  let moto: Moto | undefined;
  try {
    const image = await buildTestImage(docker.host, { withProject: true });
    moto = await startMoto({ DOCKER_HOST: docker.host, MOTO_DOCKER_NETWORK_MODE: "host" });
    const config = await fetch(`${moto.endpoint}/moto-api/config`, {
      method: "POST",
      body: JSON.stringify({ batch: { use_docker: true } }),
    });
    if (!config.ok) throw new Error(`moto config: HTTP ${config.status}`);
    const roleXml = await motoQuery(moto.endpoint, "iam", {
      Action: "CreateRole",
      Version: "2010-05-08",
      RoleName: "redun-batch-test",
      AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
    });
    const roleArn = /<Arn>([^<]+)<\/Arn>/.exec(roleXml)![1]!;
    const clientConfig = {
      endpoint: moto.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    };
    const batch = new BatchClient(clientConfig);
    const logs = new CloudWatchLogsClient(clientConfig);
    const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
    const ce = await batch.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: "redun-test-ce",
        type: "UNMANAGED",
        state: "ENABLED",
        serviceRole: roleArn,
      }),
    );
    const queue = "redun-test-queue";
    await batch.send(
      new CreateJobQueueCommand({
        jobQueueName: queue,
        state: "ENABLED",
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce.computeEnvironmentArn! }],
      }),
    );
    const bucket = "redun-batch-test";
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const running = moto;
    return {
      moto: running,
      docker,
      image,
      queue,
      roleArn,
      bucket,
      env: { ...running.env, DOCKER_HOST: docker.host },
      batch,
      logs,
      s3,
      stop: async () => {
        batch.destroy();
        logs.destroy();
        s3.destroy();
        await running.stop();
        await docker.stop();
      },
    };
  } catch (error) {
    await moto?.stop();
    await docker.stop();
    throw error;
  }
}
