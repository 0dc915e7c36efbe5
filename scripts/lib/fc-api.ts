/**
 * The two calls the deploy-time scripts make (InvokeFunction with the log tail, publishing a layer
 * version), on either Function Compute API: FC 3.0 (2023-03-30, `@alicloud/fc20230330`, OpenAPI v3
 * signatures; the console's default and s.yaml's) or FC 2.0 (2016-08-15, `@alicloud/fc2`;
 * s.fc2.yaml's). `--fc-version 3|2` or FC_VERSION in .env chooses; FC 3.0 by default. Only in
 * scripts/, never in the function bundle.
 */
import { Readable } from 'node:stream';
import { RuntimeOptions } from '@darabonba/typescript';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Fc3, {
  CreateLayerVersionInput, CreateLayerVersionRequest, InputCodeLocation, InvokeFunctionHeaders, InvokeFunctionRequest,
} from '@alicloud/fc20230330';
import { fcClient, setting, UsageError, type CloudCredentials } from './cloud';

export type FcVersion = '3' | '2';

export interface Invocation {
  headers: Record<string, string | undefined>;
  body: string;
}

export interface FcApi {
  readonly version: FcVersion;
  /** Synchronous invocation with `x-fc-log-type: Tail` (FC 3.0: the function; FC 2.0: service/function). */
  invoke(event: string): Promise<Invocation>;
  publishLayer(name: string, zip: Buffer, description: string, runtimes: string[]): Promise<{ version: number; arn: string }>;
}

export interface FcTarget {
  accountId: string;
  region: string;
  credentials: CloudCredentials;
  /** FC 3.0: `host[:port]` (a scheme is ignored); FC 2.0: a base URL. Default: `<account>.<region>.fc.aliyuncs.com`. */
  endpoint?: string | undefined;
  /** FC 2.0 only. */
  service?: string | undefined;
  functionName?: string | undefined;
}

/** Three minutes more than the function's own timeout, so a long invocation is not cut by the client. */
const TIMEOUT_MS = 330_000;

export function fcVersion(flags: Record<string, string | boolean | undefined>): FcVersion {
  const v = setting(flags, 'fc-version', 'FC_VERSION', '3');
  if (v !== '3' && v !== '2') throw new UsageError(`--fc-version ${v} must be 3 (FC 3.0, s.yaml) or 2 (FC 2.0, s.fc2.yaml)`);
  return v;
}

export function fcApi(version: FcVersion, target: FcTarget): FcApi {
  return version === '3' ? fc3(target) : fc2(target);
}

function fc3(t: FcTarget): FcApi {
  const client = new Fc3(new $OpenApiUtil.Config({
    accessKeyId: t.credentials.accessKeyId, accessKeySecret: t.credentials.accessKeySecret, securityToken: t.credentials.securityToken,
    regionId: t.region, endpoint: (t.endpoint ?? `${t.accountId}.${t.region}.fc.aliyuncs.com`).replace(/^https?:\/\//, '').replace(/\/$/, ''),
    readTimeout: TIMEOUT_MS, connectTimeout: 10_000,
  }));
  const runtime = () => new RuntimeOptions({ readTimeout: TIMEOUT_MS, connectTimeout: 10_000 });
  return {
    version: '3',
    async invoke(event) {
      if (!t.functionName) throw new UsageError('Missing the function name (--function or FC_FUNCTION_NAME).');
      const res = await client.invokeFunctionWithOptions(
        t.functionName,
        new InvokeFunctionRequest({ body: Readable.from([Buffer.from(event, 'utf8')]) }),
        new InvokeFunctionHeaders({ xFcInvocationType: 'Sync', xFcLogType: 'Tail' }),
        runtime(),
      );
      const chunks: Buffer[] = [];
      for await (const c of res.body ?? []) chunks.push(Buffer.from(c as Buffer));
      return { headers: res.headers ?? {}, body: Buffer.concat(chunks).toString('utf8') };
    },
    async publishLayer(name, zip, description, runtimes) {
      const res = await client.createLayerVersionWithOptions(
        name,
        new CreateLayerVersionRequest({ body: new CreateLayerVersionInput({ code: new InputCodeLocation({ zipFile: zip.toString('base64') }), compatibleRuntime: runtimes, description }) }),
        {},
        runtime(),
      );
      const version = Number(res.body?.version);
      return { version, arn: res.body?.layerVersionArn ?? `acs:fc:${t.region}:${t.accountId}:layers/${name}/versions/${version}` };
    },
  };
}

function fc2(t: FcTarget): FcApi {
  const client = fcClient(t.accountId, t.region, t.credentials, t.endpoint);
  return {
    version: '2',
    async invoke(event) {
      if (!t.service || !t.functionName) throw new UsageError('FC 2.0 needs --service (FC_SERVICE_NAME) and --function (FC_FUNCTION_NAME).');
      const res = await client.invokeFunction(t.service, t.functionName, event, { 'x-fc-invocation-type': 'Sync', 'x-fc-log-type': 'Tail' });
      const body = Buffer.isBuffer(res.data) ? res.data.toString('utf8') : typeof res.data === 'string' ? res.data : JSON.stringify(res.data, null, 2);
      return { headers: res.headers, body };
    },
    async publishLayer(name, zip, description, runtimes) {
      const { data } = await client.publishLayerVersion(name, { description, compatibleRuntime: runtimes, code: { zipFile: zip.toString('base64') } });
      const version = Number(data.version);
      return { version, arn: data.arnV2 ?? `acs:fc:${t.region}:${t.accountId}:layers/${name}/versions/${version}` };
    },
  };
}
