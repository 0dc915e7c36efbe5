/** What the shipping loop needs from a syslog connection, whatever the protocol. */

export interface SyslogTransport {
  /**
   * Queues one unframed message (copied before this returns: the caller may reuse its buffer). Returns a promise only when the caller must wait
   * (back-pressure); otherwise undefined, so the hot path does not allocate a promise per record.
   * Throws/rejects with a SyslogError once the connection has failed.
   */
  send(message: Buffer): Promise<void> | undefined;
  /**
   * Queues messages already framed for this transport (the WebAssembly kernel writes them), copied
   * before this returns. Only stream transports have it.
   */
  sendFramed?(frames: Uint8Array): Promise<void> | undefined;
  /** Resolves when everything sent so far has been handed to the operating system. */
  flush(): Promise<void>;
  /** Flushes, then closes gracefully (TLS close_notify, TCP FIN) and waits for the peer. */
  close(): Promise<void>;
  /** Drops the connection at once (after a failure). */
  destroy(): void;
  /** False once the connection failed or the peer closed it. */
  readonly alive: boolean;
  /** `tcp://host:port` etc., for messages. */
  readonly target: string;
}
