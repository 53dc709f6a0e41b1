import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config';

describe('config', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6390' });
    expect(config.PORT).toBe(3000);
    expect(config.DATA_DIR).toBe('./data');
    expect(config.ASSIST_TIMEOUT_MS).toBe(4000);
    expect(config.OPENAI_API_KEY).toBeUndefined();
    expect(config.LINE_API_BASE).toBe('https://api.line.me');
  });

  it('names every bad variable and what is wrong with it', () => {
    try {
      loadConfig({ REDIS_URL: 'localhost:6379', PORT: 'eighty', OPENAI_BASE_URL: 'not a url' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(/REDIS_URL: must start with redis:\/\//);
      expect(message).toMatch(/PORT: .*"eighty"/);
      expect(message).toMatch(/OPENAI_BASE_URL: must be an absolute URL/);
    }
  });

  it('treats an empty value as unset', () => {
    expect(
      loadConfig({ REDIS_URL: 'redis://x:1', OPENAI_API_KEY: '' }).OPENAI_API_KEY,
    ).toBeUndefined();
  });
});
