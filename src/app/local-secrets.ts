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
): { value: string; generated: boolean } {
  const file = path.resolve(dataDir, name);
  if (fs.existsSync(file)) return { value: fs.readFileSync(file, 'utf8').trim(), generated: false };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const value = make();
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, generated: true };
}

export function resolveLocalSecrets(config: Config) {
  const admin = config.ADMIN_TOKEN
    ? { value: config.ADMIN_TOKEN, source: 'env' as const }
    : {
        ...fromFile(
          config.DATA_DIR,
          'admin-token',
          () => `adm_${randomBytes(24).toString('base64url')}`,
        ),
        source: 'file' as const,
      };
  const secretsKey =
    config.SECRETS_KEY ??
    fromFile(config.DATA_DIR, 'secrets.key', () => randomBytes(32).toString('base64')).value;
  return {
    adminToken: admin.value,
    adminTokenSource: admin.source,
    adminTokenFile: path.resolve(config.DATA_DIR, 'admin-token'),
    secretsKey,
  };
}
