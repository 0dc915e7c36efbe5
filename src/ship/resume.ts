/**
 * Where a retried invocation resumes. The SLS trigger retries a failed invocation with the same
 * range; without a memory of its own the function would re-send all of it. Progress proven
 * delivered is kept in SLS itself: a consumer group named after the trigger job holds, per shard,
 * the cursor up to which the SIEM proved it has everything (`ConsumerGroupUpdateCheckPoint` with
 * `forceSuccess`, read back with GetCheckPoint). The checkpoint's consumer name carries a digest
 * of the range, so only a retry of the very same range resumes: a replay of a wider range, or the
 * next range, never skips anything. A range that ends well marks its point used. Without the RAM
 * actions for it the function still works; it says so once.
 */
import { createHash } from 'node:crypto';
import { SlsError } from '../errors';
import type { SlsClient } from '../sls/client';
import { decodeCursor } from '../sls/cursor';

/** Consumer names of the checkpoint (forced, so they need not be live members of the group). */
const rangeConsumer = (begin: string, end: string) => `fc-range-${createHash('sha256').update(`${begin}|${end}`).digest('hex').slice(0, 32)}`;
const DONE_CONSUMER = 'fc-range-done';

/** Said once per instance: the RAM policy lacks the consumer-group actions. */
let cannotResumeSaid = false;

export const RESUME_ACTIONS = ['log:CreateConsumerGroup', 'log:ConsumerGroupUpdateCheckPoint', 'log:GetConsumerGroupCheckPoint'];

/** SLS consumer group names: 2-128 of [a-z0-9_-]. A trigger's jobName is a 40-hex id. */
export function resumeGroupName(jobName: string): string {
  return `sls-syslog-forwarder-${jobName.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}`.slice(0, 128);
}

export class ResumeStore {
  private readonly group: string;
  private disabled = false;
  private groupReady = false;
  private consumer = DONE_CONSUMER;
  /** A point was saved or used in this invocation: mark it used when the range ends well. */
  private touched = false;
  /** Saves run one after another, so a later cursor is never overwritten by an earlier one. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: SlsClient,
    private readonly logstore: string,
    private readonly shard: number,
    jobName: string,
    private readonly maxAgeMs: number,
  ) {
    this.group = resumeGroupName(jobName);
  }

  /** The saved cursor of this very range when it lies inside (begin, end) and is recent; otherwise undefined. */
  async find(begin: string, end: string): Promise<string | undefined> {
    this.consumer = rangeConsumer(begin, end);
    let saved: { checkpoint: string; updateTime: number; consumer: string } | undefined;
    try {
      saved = await this.client.getCheckpoint(this.logstore, this.group, this.shard);
      this.groupReady = true;
    } catch (err) {
      if (err instanceof SlsError && err.code === 'ConsumerGroupNotExist') return undefined;
      this.cannotResume(err);
      return undefined;
    }
    if (!saved || saved.consumer !== this.consumer || Date.now() - saved.updateTime * 1000 > this.maxAgeMs) return undefined;
    const [b, e, s] = [decodeCursor(begin), decodeCursor(end), decodeCursor(saved.checkpoint)];
    if (b === undefined || e === undefined || s === undefined || s <= b || s >= e) return undefined;
    this.touched = true;
    return saved.checkpoint;
  }

  /** The range ended well: its saved point (if any) must not make a later replay of it skip records. */
  async finish(end: string): Promise<void> {
    if (!this.touched) return;
    this.consumer = DONE_CONSUMER;
    await this.save(end);
  }

  /** Resolves when every save asked for so far was written (or given up). */
  saved(): Promise<void> {
    return this.saving;
  }

  /** Records that everything before `cursor` was proven delivered. Never fails the invocation. */
  save(cursor: string): Promise<void> {
    this.touched = true;
    const consumer = this.consumer;
    this.saving = this.saving.then(() => this.write(cursor, consumer));
    return this.saving;
  }

  private async write(cursor: string, consumer: string): Promise<void> {
    if (this.disabled) return;
    try {
      if (!this.groupReady) {
        await this.client.createConsumerGroup(this.logstore, this.group, 60);
        this.groupReady = true;
      }
      await this.client.updateCheckpoint(this.logstore, this.group, consumer, this.shard, cursor, true);
    } catch (err) {
      // A transient failure costs only this point; a refusal (RAM policy) turns resuming off.
      if (!(err instanceof SlsError && err.retryable)) this.cannotResume(err);
    }
  }

  private cannotResume(err: unknown): void {
    this.disabled = true;
    if (cannotResumeSaid) return;
    cannotResumeSaid = true;
    const why = err instanceof SlsError ? `${err.code} (HTTP ${err.status})` : (err as Error).message;
    console.log(JSON.stringify({
      event: 'sls-syslog-forwarder.notice',
      notice: `Retries cannot resume where the last attempt's proof ended (SLS answered ${why}): they re-send the whole range. ` +
        `Grant the function's role ${RESUME_ACTIONS.join(', ')} on the logstore (docs/deploy.md), or set SLS_RESUME=off to silence this.`,
    }));
  }
}
