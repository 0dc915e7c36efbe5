/**
 * SLS answers read within their bounds, and what an error answer or a failed request means, in
 * words that say what to fix. Used by the client (client.ts); none of it touches the network.
 */
import type http from 'node:http';
import { SlsError } from '../errors';

/** `query`: an SPL statement (SLS_QUERY); `processor`: a consume processor's name (SLS_CONSUME_PROCESSOR). */
export type SplSource = { query: string } | { processor: string };

/**
 * Buffers a PullLogs answer may be decoded into, reused from one batch to the batch after next,
 * so a long range does not leave a trail of dead multi-megabyte buffers for the GC. The caller
 * guarantees nothing still reads the slot's previous contents.
 */
export interface PullSlot {
  wire?: Buffer;
  raw?: Buffer;
  /** Leave an LZ4 body compressed (`PullResult.lz4`): the caller decodes it when it gets to it. */
  deferLz4?: boolean;
}


export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const HINTS: Record<string, string> = {
  SignatureNotMatch: 'SLS rejected the signature: the STS credentials in the FC context are wrong or were altered; check that the function runs with its own service role and that the clock is right.',
  Unauthorized: "The function's role may not read this logstore: grant it log:GetCursorOrData (and log:ListShards) on acs:log:<region>:<account>:project/<project>/logstore/<logstore>, or the STS token has expired.",
  InvalidAccessKeyId: "The access key is unknown to SLS: check the FC service role and that the event's endpoint is in the project's region.",
  ProjectNotExist: 'Check source.projectName and source.endpoint in the event (the console\'s template event names a project that does not exist).',
  LogStoreNotExist: 'Check source.logstoreName in the event and the trigger\'s sourceConfig.logstore.',
  ShardNotExist: 'Check source.shardId in the event: the shard may have been split or merged.',
  InvalidCursor: 'The cursor is malformed or its data has expired (logstore TTL): build the event with fresh cursors (GetCursor).',
  ReadQuotaExceed: 'The project read quota is exhausted; retried with backoff. If this persists, lower triggerInterval load or raise the quota.',
  ShardReadQuotaExceed: 'The shard read quota is exhausted; retried with backoff. Consider splitting the shard.',
  RequestTimeExpired: "The request date is over 15 minutes off SLS's clock: check the system time.",
};

const RETRYABLE_CODES = new Set([
  'ReadQuotaExceed', 'ShardReadQuotaExceed', 'ServerBusy', 'InternalServerError', 'RequestTimeout',
  'NetworkError', 'BadResponse',
]);

/** `x-log-bodyrawsize`: undefined when absent, -1 when it is not a size. */
export function declaredRawSize(h: http.IncomingHttpHeaders): number | undefined {
  const text = header(h, 'x-log-bodyrawsize');
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

export function header(h: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** An SLS error answer as an error that says what to fix (with SPL on, about the statement when nothing else is named). */
export function errorFrom(api: string, res: RawResponse, project: string, spl: SplSource | undefined): SlsError {
  const requestId = header(res.headers, 'x-log-requestid');
  let code = 'BadResponse';
  let text = res.body.toString('utf8').slice(0, 300);
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as { errorCode?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorCode === 'string') code = parsed.errorCode;
    if (typeof parsed.errorMessage === 'string') text = parsed.errorMessage.slice(0, 300);
  } catch {
    /* non-JSON error body: keep its start as the message */
  }
  const retryable = RETRYABLE_CODES.has(code) || res.status >= 500;
  const hint = splHint(spl, api, res.status, code) ?? HINTS[code] ?? (retryable ? 'A transient SLS error; retried with backoff.' : 'See the SLS error code reference.');
  return new SlsError(
    `SLS ${api} failed: ${code} (HTTP ${res.status}): ${text} [request id ${requestId ?? 'none'}, project ${project}]. ${hint}`,
    code, res.status, requestId, retryable,
  );
}

/** A PullLogs refused with SPL on is, unless it names another cause, about the statement or processor. */
function splHint(spl: SplSource | undefined, api: string, status: number, code: string): string | undefined {
  if (!spl || api !== 'PullLogs' || (status !== 400 && status !== 404) || code in HINTS) return undefined;
  return 'query' in spl
    ? `SLS refused the SPL statement in SLS_QUERY ("${spl.query}"): fix it as the message says (e.g. * | where status = '200' | project-away body), or unset SLS_QUERY.`
    : `SLS refused the consume processor in SLS_CONSUME_PROCESSOR ("${spl.processor}"): check that it exists in the project, or unset SLS_CONSUME_PROCESSOR.`;
}

/** An answer that cannot be used (retried: it was damaged on the way). */
export function badResponse(res: RawResponse, api: string, why: string): SlsError {
  const requestId = header(res.headers, 'x-log-requestid');
  return new SlsError(
    `SLS ${api} returned an unusable answer: ${why} [request id ${requestId ?? 'none'}]. Retry; report the request id if it persists.`,
    'BadResponse', res.status, requestId, true,
  );
}

/** A request that got no answer: which of the network's failures, and what to check. */
export function networkError(api: string, err: NodeJS.ErrnoException, where: string): SlsError {
  const code = err.code ?? '';
  // A reset or a cut answer means SLS (or a proxy on the way) was reached and dropped the
  // connection: that is not an address problem, and saying "check the endpoint" would mislead.
  const dropped = code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up|aborted/i.test(err.message);
  const slow = code === 'ETIMEDOUT' && /no (complete )?answer within/.test(err.message);
  const certificate = /CERT|SIGNATURE|SELF_SIGNED|UNABLE_TO_/.test(code);
  const hint = certificate
    ? "SLS's TLS certificate was not accepted (it is verified against the system roots). Behind a TLS-inspecting proxy, add its CA (NODE_EXTRA_CA_CERTS) or, for a plain-HTTP proxy only, set SLS_HTTPS=off."
    : dropped
    ? 'SLS (or a proxy between) dropped the connection mid-request; retried with backoff. If it persists, the shard may be overloaded or a proxy is cutting long answers.'
    : slow
      ? 'SLS did not answer in time (SLS_REQUEST_TIMEOUT_MS); retried with backoff.'
      : 'Check source.endpoint in the event and that the function can reach SLS (same region, or internet access).';
  return new SlsError(
    `SLS ${api} ${dropped ? 'connection to' : slow ? 'got no answer from' : 'could not reach'} ${where}: ${code} ${err.message}. ${hint}`,
    'NetworkError', 0, undefined, true,
  );
}

/** Not retried as is (the same pull gives the same answer): the shipper halves the count and pulls again. */
export function tooLarge(api: string, headers: http.IncomingHttpHeaders, why: string, cap: number): SlsError {
  const requestId = header(headers, 'x-log-requestid');
  return new SlsError(
    `SLS ${api} answer refused: ${why}, over the ${cap}-byte cap (twice SLS_PULL_BUDGET_BYTES, 16-32 MiB) [request id ${requestId ?? 'none'}]. ` +
      'Fewer log groups are pulled at a time; if one log group alone is over the cap, raise SLS_PULL_BUDGET_BYTES.',
    ANSWER_TOO_LARGE, 200, requestId, false,
  );
}

/** The code of an answer over the cap (SlsError.code). */
export const ANSWER_TOO_LARGE = 'AnswerTooLarge';

/** Gathers a response body; with a known length and a slot, straight into the slot's reused buffer. */
export class BodyCollector {
  private chunks: Buffer[] = [];
  private target: Buffer | undefined;
  private pos = 0;

  constructor(length: number, slot: PullSlot | undefined) {
    if (slot && length > 0) {
      if (!slot.wire || slot.wire.length < length) slot.wire = Buffer.allocUnsafe(length);
      this.target = slot.wire.subarray(0, length);
    }
  }

  add(chunk: Buffer): void {
    if (this.target && this.pos + chunk.length <= this.target.length) {
      chunk.copy(this.target, this.pos);
      this.pos += chunk.length;
    } else {
      if (this.target) this.chunks.push(this.target.subarray(0, this.pos));
      this.target = undefined;
      this.chunks.push(chunk);
    }
  }

  result(): Buffer {
    return this.target ? this.target.subarray(0, this.pos) : Buffer.concat(this.chunks);
  }
}
