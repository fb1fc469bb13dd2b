import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigValidationError, loadConfig } from '../config/config.schema.js';

describe('logger before the configuration is loaded', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('loads with a bad LOG_LEVEL, so the configuration check can name the variable', async () => {
    vi.stubEnv('LOG_LEVEL', 'bogus');
    vi.resetModules();
    const { appLogger } = await import('./logger.js'); // pino threw here on an unknown level, before the check
    expect(appLogger().level).toBe('info');
    expect(() => loadConfig({ LOG_LEVEL: 'bogus' })).toThrow(ConfigValidationError);
    expect(() => loadConfig({ LOG_LEVEL: 'bogus' })).toThrow(/LOG_LEVEL must be one of/);
  });

  it('starts at LOG_LEVEL when it names a level, in any case', async () => {
    vi.stubEnv('LOG_LEVEL', 'WARN');
    vi.resetModules();
    const { appLogger } = await import('./logger.js');
    expect(appLogger().level).toBe('warn');
  });
});
