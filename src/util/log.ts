import pino from 'pino';

/**
 * The process's structured log: one JSON object per line (pino) on stderr, so stdout stays the
 * start-up banner a person reads and anything parsing either stream gets one kind of text.
 * Synchronous writes: a fatal line written just before `process.exit` is not lost, and bookcast
 * logs at most a few lines a second (start, stop, refusals, failures), never per message.
 *
 * Every line carries `time` (epoch ms), `level` (pino's numbers: 30 info, 40 warn, 50 error),
 * `msg`, and where it applies `code` (the error catalog's) and `conn` / `req` ids. Secrets never
 * reach a log call: the publisher token, Authorization headers and API keys are not passed in,
 * and `redact` blanks the usual field names should a caller slip one into an object.
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const log = pino(
  {
    base: { name: 'bookcast' },
    level: 'info',
    redact: { paths: ['token', 'authorization', 'apiKey', 'password', '*.token', '*.authorization', '*.apiKey', '*.password'], censor: '[redacted]' },
  },
  pino.destination({ dest: 2, sync: true }),
);

/** Applies --log-level (config.ts validates the name). */
export function setLogLevel(level: LogLevel): void {
  log.level = level;
}
