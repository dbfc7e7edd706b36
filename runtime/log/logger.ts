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

export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'hdc' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['authorization', 'password', '*.authorization', '*.password', 'headers.authorization', 'req.headers.authorization'],
        censor: '[redacted]',
      },
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
