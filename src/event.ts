/**
 * The SLS trigger event: parsed and validated before anything touches the network, so a wrong
 * or placeholder test event fails with a message that says which field to fix.
 */
import { EventError } from './errors';
import { decodeCursor } from './sls/cursor';

export interface TriggerEvent {
  /** Region endpoint with scheme, e.g. `http://cn-hangzhou-intranet.log.aliyuncs.com`. */
  endpoint: string;
  project: string;
  logstore: string;
  shardId: number;
  beginCursor: string;
  endCursor: string;
  jobName: string | undefined;
  taskId: string | undefined;
  cursorTime: number | undefined;
  parameter: Record<string, unknown>;
}

export const EXAMPLE_EVENT = {
  parameter: {},
  source: {
    endpoint: 'http://cn-hangzhou-intranet.log.aliyuncs.com',
    projectName: 'my-project',
    logstoreName: 'my-logstore',
    shardId: 0,
    beginCursor: 'MTczNzY2OTAzNjAxNzIxODQ1NA==',
    endCursor: 'MTczNzY2OTAzNjAxNzIxODQ2NA==',
  },
  jobName: '1f7043ced683de1a4e3d8d70b5a412843d817a39',
  taskId: 'c2691505-38da-4d1b-998a-f1d4bb8c9994',
  cursorTime: 1737669036,
};

const SHAPE = `A valid SLS trigger event looks like: ${JSON.stringify(EXAMPLE_EVENT)}`;

/** Cursors of the sample event in Alibaba's SLS trigger templates: they point at no real data. */
const TEMPLATE_CURSORS = new Set(['MTUyOTQ4MDIwOTY1NTk3ODQ2Mw==', 'MTUyOTQ4MDIwOTY1NTk3ODQ2NA==']);

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function toObject(event: unknown): Record<string, unknown> {
  let value = event;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) value = Buffer.from(value).toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (err) {
      throw new EventError(`The event is not JSON (${(err as Error).message}). ${SHAPE}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EventError(`The event is ${describe(value)}, not a JSON object. ${SHAPE}`);
  }
  return value as Record<string, unknown>;
}

export function parseTriggerEvent(event: unknown): TriggerEvent {
  const obj = toObject(event);
  const source = obj.source;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    const consoleDefault = 'key1' in obj || 'key2' in obj;
    throw new EventError(
      (consoleDefault
        ? "This is the FC console's default test event ({\"key1\": ...}), not an SLS trigger event. " +
          'In the console, open Test Function > Configure Test Parameters and paste an SLS event. '
        : `The event has no "source" object (keys: ${Object.keys(obj).join(', ') || 'none'}), so it is not an SLS trigger event. `) +
        SHAPE,
    );
  }
  const s = source as Record<string, unknown>;
  const problems: string[] = [];
  const text = (name: string): string => {
    const v = s[name];
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    problems.push(`source.${name} must be a non-empty string (got ${describe(v)})`);
    return '';
  };
  const endpoint = text('endpoint');
  if (endpoint && !/^(https?:\/\/)?[A-Za-z0-9.\-[\]:]+\/?$/.test(endpoint)) {
    problems.push(`source.endpoint must be an SLS endpoint such as "http://cn-hangzhou-intranet.log.aliyuncs.com" (got ${describe(endpoint)})`);
  }
  const project = text('projectName');
  const logstore = text('logstoreName');
  const rawShard = s.shardId;
  const shardId = typeof rawShard === 'string' && /^\d+$/.test(rawShard) ? Number(rawShard) : rawShard;
  if (typeof shardId !== 'number' || !Number.isSafeInteger(shardId) || shardId < 0) {
    problems.push(`source.shardId must be a non-negative integer (got ${describe(rawShard)})`);
  }
  const cursor = (name: 'beginCursor' | 'endCursor'): string => {
    const value = text(name);
    if (value && decodeCursor(value) === undefined) {
      problems.push(`source.${name} ${describe(value)} is not an SLS cursor (base64 of a decimal int64, e.g. "MTczNzY2OTAzNjAxNzIxODQ1NA==")`);
    }
    return value;
  };
  const beginCursor = cursor('beginCursor');
  const endCursor = cursor('endCursor');
  if (problems.length === 0) {
    const begin = decodeCursor(beginCursor)!;
    const end = decodeCursor(endCursor)!;
    if (end < begin) problems.push(`source.endCursor (${end}) is before source.beginCursor (${begin}); the range is [beginCursor, endCursor)`);
  }
  if (problems.length > 0) {
    throw new EventError(`Invalid SLS trigger event: ${problems.join('; ')}. ${SHAPE}`);
  }
  if (TEMPLATE_CURSORS.has(beginCursor) || (project === 'log-com' && logstore === 'log-en')) {
    throw new EventError(
      `This is the sample event from the SLS trigger template: project "${project}", logstore "${logstore}" and its cursors are placeholders that point at no data. ` +
        'Put your own project, logstore, shard and endpoint in it and real cursors from SLS GetCursor ' +
        '(see README, "Testing from the console").',
    );
  }
  const parameter = obj.parameter;
  const cursorTime = obj.cursorTime;
  return {
    endpoint, project, logstore, shardId: shardId as number, beginCursor, endCursor,
    jobName: typeof obj.jobName === 'string' ? obj.jobName : undefined,
    taskId: typeof obj.taskId === 'string' ? obj.taskId : undefined,
    cursorTime: typeof cursorTime === 'number' ? cursorTime : undefined,
    parameter: typeof parameter === 'object' && parameter !== null && !Array.isArray(parameter) ? (parameter as Record<string, unknown>) : {},
  };
}
