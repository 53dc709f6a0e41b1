import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config';

/**
 * The admin token and the secrets key, taken from the environment or, when
 * unset, generated once and kept under DATA_DIR (mode 0600) so restarts
 * keep working with the same values.
 */
function fromFile(
  dataDir: string,
  name: string,
  make: () => string,
  create: boolean,
): { value: string; generated: boolean } {
  const file = path.resolve(dataDir, name);
  if (fs.existsSync(file)) return { value: fs.readFileSync(file, 'utf8').trim(), generated: false };
  if (!create) throw new MissingLocalSecretError(file);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const value = make();
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, generated: true };
}

/**
 * A tool beside the service (`npm run billing:close`) found no secrets key: it
 * must use the service's, never make one of its own that opens nothing.
 */
export class MissingLocalSecretError extends Error {
  constructor(readonly file: string) {
    super(
      `${file} does not exist and SECRETS_KEY is unset: run this with the service's DATA_DIR (where npm start keeps secrets.key) or its SECRETS_KEY.`,
    );
    this.name = 'MissingLocalSecretError';
  }
}

/**
 * `create: false` (tools run beside the service) reads the service's secrets
 * key and never writes one; the admin token, which such a tool does not serve
 * with, is then a throw-away value when none is kept.
 */
export function resolveLocalSecrets(config: Config, options: { create?: boolean } = {}) {
  const create = options.create ?? true;
  const makeAdminToken = () => `adm_${randomBytes(24).toString('base64url')}`;
  const admin = config.ADMIN_TOKEN
    ? { value: config.ADMIN_TOKEN, source: 'env' as const }
    : {
        ...(create
          ? fromFile(config.DATA_DIR, 'admin-token', makeAdminToken, true)
          : { value: makeAdminToken() }),
        source: 'file' as const,
      };
  const secretsKey =
    config.SECRETS_KEY ??
    fromFile(config.DATA_DIR, 'secrets.key', () => randomBytes(32).toString('base64'), create)
      .value;
  return {
    adminToken: admin.value,
    adminTokenSource: admin.source,
    adminTokenFile: path.resolve(config.DATA_DIR, 'admin-token'),
    secretsKey,
  };
}
