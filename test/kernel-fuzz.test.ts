/**
 * Damaged bodies through the kernel engine and the reference engine: for thousands of seeded random
 * mutations (byte flips, truncations, inserted bytes) of a valid PullLogs body, either both paths
 * fail with a DecodeError, or both succeed with identical frames. The kernel never hangs, never
 * writes a record the reference would not, and never loses one it would.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flatConfig as loadConfig } from './support/settings';
import { decodeGroupView, groupSpans } from '../src/decode/log-group';
import { DecodeError } from '../src/errors';
import { KernelEngine } from '../src/format/kernel-engine';
import { sendBody, type BatchCounts } from './support/settings';
import { referenceFormatter } from '../src/format/reference-engine';
import { frameInto, maxFramedLength } from '../src/outputs/syslog/framing';
import { encodeLogGroup, encodeLogGroupList } from './support/log-group-writer';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const body = encodeLogGroupList(
  [0, 1, 2].map((g) =>
    encodeLogGroup({
      source: `10.0.0.${g}`, topic: 't', tags: [['__hostname__', `h${g}`]],
      logs: Array.from({ length: 6 }, (_, i) => ({ time: 1737669036 + i, timeNs: i, contents: [['a', `v${i}`], ['status', '200'], ['uri', `/x?y=${i}`], ['final_action', i % 2 ? 'block' : 'pass']] as Array<[string, string]> })),
    }),
  ),
);

type Outcome = { wire: string } | { error: string };

/** What the reference path of ship.ts does: group by group, decode (may throw), format, frame. */
function viaJs(config: ReturnType<typeof loadConfig>, b: Buffer): Outcome {
  const reference = referenceFormatter(config, { project: 'p', logstore: 'ls' });
  const parts: Buffer[] = [];
  try {
    const spans = groupSpans(b);
    for (let g = 0; g < spans.length; g += 2) {
      const view = decodeGroupView(b, spans[g]!, spans[g + 1]!);
      for (const log of view.logs) {
        const m = reference.format(view, log).bytes;
        const out = Buffer.alloc(maxFramedLength(config.framing, m.length));
        parts.push(out.subarray(0, frameInto(config.framing, m, out, 0)));
      }
    }
  } catch (err) {
    assert.ok(err instanceof DecodeError, String(err));
    return { error: 'DecodeError' };
  }
  return { wire: Buffer.concat(parts).toString('hex') };
}

async function viaKernel(kernel: KernelEngine, b: Buffer, framing: 'octet-counting' | 'newline'): Promise<Outcome> {
  const parts: Buffer[] = [];
  const transport = {
    target: 'fuzz', alive: true,
    send(m: Buffer) {
      const out = Buffer.alloc(maxFramedLength(framing, m.length));
      parts.push(out.subarray(0, frameInto(framing, m, out, 0)));
      return undefined;
    },
    sendFramed(f: Uint8Array) {
      parts.push(Buffer.from(f));
      return undefined;
    },
    flush: async () => {}, close: async () => {}, destroy() {},
  };
  const counts: BatchCounts = { records: 0, sentBytes: 0, truncated: 0, groups: 0 };
  try {
    await sendBody(kernel, b, transport, counts, () => undefined);
  } catch (err) {
    assert.ok(err instanceof DecodeError, String(err));
    return { error: 'DecodeError' };
  }
  return { wire: Buffer.concat(parts).toString('hex') };
}

test('kernel and reference agree on 6000 damaged bodies: the same frames, or both a DecodeError', async () => {
  const random = rng(20261125);
  let failures = 0;
  const envs = [
    { SYSLOG_HOST: 'h' },
    { SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_SEVERITY_PRESET: 'waf', SYSLOG_KV_QUOTE: 'auto' },
    { SYSLOG_HOST: 'h', SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_FRAMING: 'newline' },
    { SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_EVENT_ID_FIELD: 'final_action' },
  ];
  for (const env of envs) {
    const config = loadConfig(env);
    const kernel = new KernelEngine(config, { project: 'p', logstore: 'ls' });
    for (let n = 0; n < 1500; n++) {
      let b = Buffer.from(body);
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * b.length);
        const kind = random();
        if (kind < 0.6) b[at] = Math.floor(random() * 256);
        else if (kind < 0.8) b = b.subarray(0, at);
        else b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(random() * 256)]), b.subarray(at)]);
      }
      const js = viaJs(config, b);
      const wasm = await viaKernel(kernel, b, config.framing as "octet-counting" | "newline");
      if ('error' in js) {
        failures++;
        assert.deepEqual(wasm, js, `mutation ${n}: the reference fails, the kernel must too`);
      } else assert.deepEqual(wasm, js, `mutation ${n} (${JSON.stringify(env)}): frames differ`);
    }
  }
  // Both outcomes were exercised.
  assert.ok(failures > 600 && failures < 5400, `${failures} of 6000 failed to decode`);
});
