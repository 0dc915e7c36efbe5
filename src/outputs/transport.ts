/** What the shipping loop needs from a connection of any output: send, prove, close. */
import type { Socket } from 'node:net';

/**
 * What a successful `commit()` proves about the bytes sent before it:
 * - `close`: the receiver answered our orderly close (TLS close_notify / TCP FIN) after reading to the end;
 * - `ack`: the receiver acknowledged every message (RELP `rsp 200`, Splunk HEC answers/indexer acks);
 * - `none`: only that they were handed to this machine's kernel (UDP, or `SYSLOG_DELIVERY_PROOF=none`).
 */
export type ProofKind = 'close' | 'ack' | 'none';

export interface Transport {
  /**
   * Queues one unframed message (copied before this returns: the caller may reuse its buffer). Returns a promise only when the caller must wait
   * (back-pressure); otherwise undefined, so the hot path does not allocate a promise per record.
   * Throws/rejects with a SyslogError once the connection has failed.
   */
  send(message: Buffer): Promise<void> | undefined;
  /**
   * Queues messages already framed with octet-counting or this connection's framing (the
   * WebAssembly kernel writes them), copied before this returns.
   */
  sendFramed(frames: Uint8Array): Promise<void> | undefined;
  /** Resolves when everything sent so far has been handed to the operating system. */
  flush(): Promise<void>;
  readonly proof: ProofKind;
  /**
   * Resolves when everything sent before the call is proven delivered as far as `proof` says;
   * rejects (SyslogError) when that proof cannot be had in time. After a `close` proof the
   * connection is finished (`reusable` is false): the next segment needs a new one.
   */
  commit(): Promise<void>;
  /** Whether sending may go on after `commit()` on the same connection. */
  readonly reusable: boolean;
  /** Flushes, then closes gracefully (TLS close_notify, TCP FIN) and waits for the peer. */
  close(): Promise<void>;
  /** Drops the connection at once (after a failure). */
  destroy(): void;
  /** False once the connection failed or the peer closed it. */
  readonly alive: boolean;
  /** `tcp://host:port` etc., for messages. */
  readonly target: string;
  /** Epoch ms that no wait of this connection (back-pressure, proof) may pass: the invocation's deadline. */
  deadlineMs: number;
  /**
   * Set when the receiver acknowledges messages one by one (RELP): a broken connection's messages
   * acknowledged after the last proof need not be sent again on the next one.
   */
  readonly partialProof?: PartialProof;
}

/** Messages acknowledged past the last proof, carried from a broken connection to its successor. */
export interface PartialProof {
  /** How many messages after the last proof the receiver acknowledged. */
  acknowledgedBeyondProof(): number;
  /** The next `count` messages were acknowledged already on the broken connection: do not send them. */
  skip(count: number): void;
}

/** Waits (at most `ms`) for the peer to close after our own close; then the socket is gone either way. */
export function awaitPeerClose(socket: Socket, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The time left for a wait that has its own limit, never past `deadlineMs`. */
export function boundedWait(limitMs: number, deadlineMs: number): { ms: number; byDeadline: boolean } {
  const left = deadlineMs - Date.now();
  return left < limitMs ? { ms: Math.max(1, left), byDeadline: true } : { ms: limitMs, byDeadline: false };
}
