/**
 * The naive approach, for comparison in the same run: what a straightforward port of Alibaba's
 * Python sample does. Same PullLogs client, then protobufjs decodes each LogGroupList into objects,
 * and every record goes out through one `syslog-client` `log()` call, waiting for each callback.
 * Bundled by benchmarks/run.ts with esbuild; exposes the same `handler` shape as dist/index.js.
 */
import protobuf from 'protobufjs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const syslog = require('syslog-client') as {
  createClient(host: string, options: Record<string, unknown>): { log(msg: string, options: Record<string, unknown>, cb: (err?: Error) => void): void; close(): void };
  Transport: { Tcp: number; Udp: number };
};
import { SlsClient } from '../src/sls/client';

const SLS_PROTO = `
package sls;
message Log { required uint32 Time = 1; message Content { required string Key = 1; required string Value = 2; } repeated Content Contents = 2; optional fixed32 TimeNs = 4; }
message LogTag { required string Key = 1; required string Value = 2; }
message LogGroup { repeated Log Logs = 1; optional string Reserved = 2; optional string Topic = 3; optional string Source = 4; repeated LogTag LogTags = 6; }
message LogGroupList { repeated LogGroup logGroupList = 1; }`;
const LogGroupList = protobuf.parse(SLS_PROTO).root.lookupType('sls.LogGroupList');

interface Decoded { logGroupList: Array<{ Logs: Array<{ Time: number; Contents: Array<{ Key: string; Value: string }> }>; Topic?: string; Source?: string; LogTags?: Array<{ Key: string; Value: string }> }> }

export function handler(eventBuf: Buffer, context: { credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string } }, cb: (err: Error | null, res?: unknown) => void): void {
  void (async () => {
    const { source } = JSON.parse(eventBuf.toString()) as { source: { endpoint: string; projectName: string; logstoreName: string; shardId: number; beginCursor: string; endCursor: string } };
    const sls = new SlsClient({ endpoint: source.endpoint, project: source.projectName, credentials: context.credentials });
    const client = syslog.createClient(process.env.SYSLOG_HOST!, { port: Number(process.env.SYSLOG_PORT), transport: syslog.Transport.Tcp, rfc3164: false });
    const log = (msg: string, time: Date) => new Promise<void>((resolve, reject) => client.log(msg, { timestamp: time }, (err) => (err ? reject(err) : resolve())));
    let cursor = source.beginCursor;
    let records = 0;
    let rawBytes = 0;
    while (cursor !== source.endCursor) {
      const res = await sls.pullLogs(source.logstoreName, source.shardId, cursor, source.endCursor, 100);
      rawBytes += res.body.length;
      const list = LogGroupList.toObject(LogGroupList.decode(res.body)) as Decoded;
      for (const group of list.logGroupList ?? []) {
        for (const l of group.Logs ?? []) {
          const fields = (l.Contents ?? []).map((c) => `${c.Key}=${c.Value}`);
          if (group.Topic) fields.push(`__topic__=${group.Topic}`);
          if (group.Source) fields.push(`__source__=${group.Source}`);
          for (const t of group.LogTags ?? []) fields.push(`__tag__:${t.Key}=${t.Value}`);
          await log(fields.join('||'), new Date(l.Time * 1000));
          records++;
        }
      }
      if (res.groupCount === 0) break;
      cursor = res.nextCursor;
    }
    sls.close();
    client.close();
    return { records, rawBytes };
  })().then((r) => cb(null, r), (err: Error) => cb(err));
}
