// Structured JSON logs (pino). Message content, identifiers and credentials stay out unless the
// operator turns PHI logging on; credentials are redacted even then.
import pino from 'pino';
import type { Logger, DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Allows PHI fields (see `phi`) into the log. */
  logPhi?: boolean;
  /** Where lines go; default stdout through an asynchronous buffered writer. */
  destination?: DestinationStream;
}

/**
 * Standard output, written asynchronously in chunks of at least 4 KiB (one write per log line
 * costs more than the line) and flushed every 250 ms so a quiet runtime's lines still show promptly.
 */
export function bufferedStdout(): DestinationStream {
  const dest = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => {
    try {
      dest.flush();
    } catch {
      // flush() throws while a write is in progress; the next tick catches up
    }
  }, 250);
  timer.unref();
  process.once('exit', () => {
    try {
      dest.flushSync();
    } catch {
      // nothing left to do at exit
    }
  });
  return dest;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? bufferedStdout();
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'hdc' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Credentials are never passed to the logger; these paths are a backstop. No wildcards:
      // wildcard redaction costs more per line than the rest of the logging.
      redact: { paths: ['authorization', 'password', 'headers.authorization'], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Returns the fields only when PHI logging is on; spread it into a log object. */
export function phi(logPhi: boolean, fields: Record<string, unknown>): Record<string, unknown> {
  return logPhi ? fields : {};
}

/** A logger that discards everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
