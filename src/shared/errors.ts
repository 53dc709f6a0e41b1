/**
 * The one error type the service throws on purpose. The HTTP error middleware
 * maps it to `{error: {code, message, details}}`; anything else becomes a 500
 * with a generic message (never a stack trace).
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  /** Extra response headers, e.g. Retry-After on 429/503. */
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: {
      details?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(400, code, message, { details });
export const unauthorized = (message = 'Missing or invalid credentials.') =>
  new AppError(401, 'unauthorized', message);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} was not found.`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const unavailable = (message: string, cause?: unknown) =>
  new AppError(503, 'unavailable', message, { cause, headers: { 'Retry-After': '5' } });

/**
 * The agents' media proxy: the message has no media to fetch (or the platform
 * no longer keeps it); the platform's file is over the size limit or of a type
 * never served; the platform failed or timed out. Upstream trouble is a 502
 * (504 for a timeout): the request was fine, the platform's answer was not.
 */
export const mediaNotFound = (message: string) => new AppError(404, 'media_not_found', message);
export const mediaTooLarge = (limitBytes: number) =>
  new AppError(
    502,
    'media_too_large',
    `The file is larger than the ${Math.floor(limitBytes / (1024 * 1024))} MB this service passes on; open it in the platform's own app.`,
    { details: { limitBytes } },
  );
export const mediaTypeRefused = (type: string) =>
  new AppError(
    502,
    'media_type_refused',
    `Files of type ${type} are not shown here; open it in the platform's own app.`,
    { details: { type } },
  );
export const mediaUnavailable = (message: string, options: { timeout?: boolean } = {}) =>
  new AppError(options.timeout ? 504 : 502, 'media_unavailable', message);
