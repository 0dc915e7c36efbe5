/**
 * The official @alicloud/log SDK pointed at the emulator. The SDK addresses a project as
 * `<project>.<endpoint>`; an agent whose DNS lookup answers 127.0.0.1 keeps that on loopback.
 */
import http from 'node:http';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SdkClient = require('@alicloud/log') as new (config: Record<string, unknown>) => SdkApi;

export interface SdkApi {
  /** The SDK's own signed request (it has no consumer-group methods in 1.2.6; this signs them the same way). */
  _request(verb: string, project: string, path: string, queries: Record<string, string> | undefined, body: Buffer | undefined, headers: Record<string, string>, options?: unknown): Promise<unknown>;
  createProject(project: string, data: { description: string }, options?: unknown): Promise<unknown>;
  createLogStore(project: string, logstore: string, data: { ttl: number; shardCount: number }, options?: unknown): Promise<unknown>;
  postLogStoreLogs(
    project: string,
    logstore: string,
    data: { logs: Array<{ timestamp: number; timestampNsPart?: number; content: Record<string, string> }>; topic?: string; source?: string; tags?: Array<Record<string, string>> },
    options?: unknown,
  ): Promise<unknown>;
}

export interface Sdk {
  client: SdkApi;
  /** Per-call options every SDK call must get (routes to 127.0.0.1). */
  options: { agent: http.Agent };
}

export function officialSdk(endpoint: string, credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string }): Sdk {
  const agent = new http.Agent({
    lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
      opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never,
  });
  const client = new SdkClient({ endpoint: endpoint.replace(/^http:\/\//, ''), ...credentials });
  return { client, options: { agent } };
}
