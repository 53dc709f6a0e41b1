import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Secrets and message text never reach them: these paths are
 * censored wherever they appear, and callers log ids, not payloads.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'seatmate' },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          'text',
          '*.text',
          'credentials',
          '*.credentials',
          'token',
          '*.token',
          'secret',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
