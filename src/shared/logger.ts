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

/**
 * An error as it may be logged: name, code, message and stack only. Redis
 * errors carry the command and its arguments (buyer ids, message text), which
 * must never reach a log.
 */
export function loggableError(error: unknown): {
  type: string;
  code?: string;
  message: string;
  stack?: string;
} {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const code = (error as NodeJS.ErrnoException).code;
  return {
    type: error.name,
    ...(code ? { code } : {}),
    message: error.message,
    stack: error.stack,
  };
}
