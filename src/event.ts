/**
 * The SLS trigger event: parsed and validated before anything touches the network, so a wrong
 * or placeholder test event fails with a message that says which field to fix.
 */
import { EventError } from './errors';
import { decodeCursor } from './sls/cursor';

/**
 * A range bound. The SLS trigger always sends real cursors; a hand-written console test event may
 * also say `begin`, `end`, an ISO-8601 time or a relative time such as `-15m`, resolved with GetCursor.
 */
export type CursorSpec =
  | { kind: 'cursor'; cursor: string }
  | { kind: 'begin' }
  | { kind: 'end' }
  | { kind: 'time'; unixSeconds: number; text: string };

export interface TriggerEvent {
  /** Region endpoint with scheme, e.g. `http://cn-hangzhou-intranet.log.aliyuncs.com`. */
  endpoint: string;
  project: string;
  logstore: string;
  shardId: number;
  begin: CursorSpec;
  end: CursorSpec;
  /** The trigger job's id (40 hex digits), when the event carries one in that form. */
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

/** SLS naming rules (project, logstore): anything else is not from SLS and never reaches a URL. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const LOGSTORE_NAME = /^[a-z0-9][a-z0-9_-]{0,61}[a-z0-9]$/;
/** Shard ids are small integers (they grow by two per split). */
const MAX_SHARD_ID = 65535;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses a cursor field; undefined if it is none of the accepted forms. */
export function parseCursorSpec(value: string | number, nowMs: number): CursorSpec | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? { kind: 'time', unixSeconds: value, text: String(value) } : undefined;
  }
  const text = value.trim();
  const lower = text.toLowerCase();
  if (lower === 'begin' || lower === 'end') return { kind: lower };
  const relative = /^-(\d{1,7})([smhd])$/.exec(lower);
  if (relative) {
    return { kind: 'time', unixSeconds: Math.floor(nowMs / 1000) - Number(relative[1]) * UNIT_SECONDS[relative[2]!]!, text };
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return { kind: 'time', unixSeconds: Math.floor(ms / 1000), text };
  }
  return decodeCursor(text) === undefined ? undefined : { kind: 'cursor', cursor: text };
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function toObject(event: unknown): Record<string, unknown> {
  let value = event;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) value = Buffer.from(value).toString('utf8');
  if (typeof value === 'string') {
    // FC 3.0's console invokes with an empty body when no test event was saved.
    if (value.trim() === '') {
      throw new EventError(`The event is empty: the console's Test Function sends the saved test event, and none is saved. In the console, open Test Function > Configure Test Parameters and paste an SLS event. ${SHAPE}`);
    }
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

export function parseTriggerEvent(event: unknown, nowMs = Date.now()): TriggerEvent {
  const obj = toObject(event);
  const source = obj.source;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    // FC 2.0's console fills in {"key1": "value1", ...}; FC 3.0's and hello-world templates {"key": "value"}.
    const keys = Object.keys(obj);
    const consoleDefault = keys.length > 0 && keys.every((k) => /^key\d*$/.test(k) && typeof obj[k] === 'string');
    throw new EventError(
      (consoleDefault
        ? `This is the FC console's default test event ({"${keys[0]}": ...}), not an SLS trigger event. ` +
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
  if (project && !PROJECT_NAME.test(project)) {
    problems.push(`source.projectName ${describe(project)} is not an SLS project name (3-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit)`);
  }
  const logstore = text('logstoreName');
  if (logstore && !LOGSTORE_NAME.test(logstore)) {
    problems.push(`source.logstoreName ${describe(logstore)} is not an SLS logstore name (2-63 lower-case letters, digits, hyphens and underscores, starting and ending with a letter or digit)`);
  }
  const rawShard = s.shardId;
  const shardId = typeof rawShard === 'string' && /^\d{1,5}$/.test(rawShard) ? Number(rawShard) : rawShard;
  if (typeof shardId !== 'number' || !Number.isSafeInteger(shardId) || shardId < 0 || shardId > MAX_SHARD_ID) {
    problems.push(`source.shardId must be a shard number from 0 to ${MAX_SHARD_ID} (got ${describe(rawShard)})`);
  }
  const cursor = (name: 'beginCursor' | 'endCursor'): CursorSpec => {
    const raw = s[name];
    const spec = typeof raw === 'number' ? parseCursorSpec(raw, nowMs) : typeof raw === 'string' && raw.trim() !== '' ? parseCursorSpec(raw, nowMs) : undefined;
    if (!spec) {
      problems.push(
        `source.${name} ${describe(raw)} is not an SLS cursor (base64 of a decimal int64, e.g. "MTczNzY2OTAzNjAxNzIxODQ1NA=="); ` +
          'a test event may also use "begin", "end", an ISO-8601 time ("2025-01-23T21:50:00Z") or a relative time ("-15m", "-2h")',
      );
    }
    return spec ?? { kind: 'begin' };
  };
  const begin = cursor('beginCursor');
  const end = cursor('endCursor');
  if (problems.length === 0 && begin.kind === 'cursor' && end.kind === 'cursor') {
    const b = decodeCursor(begin.cursor)!;
    const e = decodeCursor(end.cursor)!;
    if (e < b) problems.push(`source.endCursor (${e}) is before source.beginCursor (${b}); the range is [beginCursor, endCursor)`);
  }
  if (problems.length === 0 && begin.kind === 'time' && end.kind === 'time' && end.unixSeconds < begin.unixSeconds) {
    problems.push(`source.endCursor (${end.text}) is before source.beginCursor (${begin.text})`);
  }
  if (problems.length > 0) {
    throw new EventError(`Invalid SLS trigger event: ${problems.join('; ')}. ${SHAPE}`);
  }
  if ((begin.kind === 'cursor' && TEMPLATE_CURSORS.has(begin.cursor)) || (project === 'log-com' && logstore === 'log-en')) {
    throw new EventError(
      `This is the sample event from the SLS trigger template: project "${project}", logstore "${logstore}" and its cursors are placeholders that point at no data. ` +
        'Put your own endpoint, project, logstore and shard in it, and as cursors either real ones ' +
        '(`npm run invoke` builds such an event) or "begin"/"end"/"-15m"/an ISO-8601 time (see README, "Testing from the console").',
    );
  }
  const parameter = obj.parameter;
  const cursorTime = obj.cursorTime;
  return {
    endpoint, project, logstore, shardId: shardId as number, begin, end,
    // The trigger's job id names the resume consumer group: only its own form (40 hex digits), so a
    // forged event cannot make the function create groups of any name.
    jobName: typeof obj.jobName === 'string' && /^[0-9a-f]{40}$/i.test(obj.jobName) ? obj.jobName.toLowerCase() : undefined,
    taskId: typeof obj.taskId === 'string' ? obj.taskId : undefined,
    cursorTime: typeof cursorTime === 'number' ? cursorTime : undefined,
    parameter: typeof parameter === 'object' && parameter !== null && !Array.isArray(parameter) ? (parameter as Record<string, unknown>) : {},
  };
}
