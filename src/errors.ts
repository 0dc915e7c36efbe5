/**
 * Error types the forwarder raises. Each carries a message written for the person who has to
 * fix the problem: what is wrong and what to do. None of them ever holds a credential.
 */

/** A setting (environment variable) is missing or invalid. Fails before anything is shipped. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(
      `Invalid forwarder settings (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ` +
        problems.join('\n- ') +
        '\nFix the function\'s environment variables (README, "Settings") and invoke again.',
    );
  }
}

/** The invocation event is not a usable SLS trigger event. */
export class EventError extends Error {
  override name = 'EventError';
}

/** SLS answered with an error (or could not be reached). */
export class SlsError extends Error {
  override name = 'SlsError';
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly requestId: string | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * An output could not reach its receiver, was refused, or lost the connection. Each output throws
 * its own subclass; the shipping loop reads only `fatal` and `byDeadline`.
 */
export class OutputError extends Error {
  override name = 'OutputError';
  /**
   * `fatal`: reconnecting cannot help (e.g. the SIEM rejected the token): fail at once.
   * `byDeadline`: a wait was cut short by the invocation's deadline, not by the SIEM's own limit.
   */
  constructor(message: string, readonly fatal = false, readonly byDeadline = false) {
    super(message);
  }
}

/** The syslog receiver could not be reached, refused the connection or broke it. */
export class SyslogError extends OutputError {
  override name = 'SyslogError';
}

/** A PullLogs body could not be decoded (corrupt or truncated). */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** The function's time budget ran out before the range was shipped. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}
