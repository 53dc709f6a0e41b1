import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from './errors';

/**
 * Encrypts platform secrets at rest with AES-256-GCM. The key is derived from
 * SECRETS_KEY with HKDF so the raw setting is never used as a cipher key.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secretsKey: string) {
    this.key = Buffer.from(
      hkdfSync('sha256', secretsKey, 'seatmate', 'platform-credentials-v1', 32),
    );
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [
      'v1',
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      body.toString('base64'),
    ].join('.');
  }

  open(sealed: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined)
      throw new Error('unknown sealed secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([
        decipher.update(Buffer.from(body, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch (error) {
      // GCM's own words ("unable to authenticate data") do not tell an operator
      // that a process started with another DATA_DIR or SECRETS_KEY than the service.
      throw new AppError(
        500,
        'secrets_key_mismatch',
        "A shop's stored platform secrets could not be decrypted: this process's SECRETS_KEY (or DATA_DIR/secrets.key) is not the key they were saved with. Run it with the service's SECRETS_KEY or DATA_DIR.",
        { cause: error },
      );
    }
  }
}
