import { describe, expect, it } from 'vitest';
import { checksumOf, composeApiKey, generateApiKey, hashApiKey, parseApiKey, sameHash, toBase62 } from './api-key-format.js';

describe('API key format', () => {
  it('matches the test vector of API.md §1', () => {
    expect(toBase62(3188695425, 6)).toBe('3TnRLN');
    expect(checksumOf('qk_live_3fA9kQ2z.Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56')).toBe('3TnRLN');
    expect(composeApiKey('qk_live_3fA9kQ2z', 'Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56')).toBe(
      'qk_live_3fA9kQ2z.Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op563TnRLN',
    );
    expect(parseApiKey('qk_live_3fA9kQ2z.Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op563TnRLN')).toEqual({ prefix: 'qk_live_3fA9kQ2z' });
  });

  it('generates keys that parse, with fresh prefixes and secrets', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^qk_live_[0-9A-Za-z]{8}\.[0-9A-Za-z]{38}$/);
    expect(parseApiKey(a.key)).toEqual({ prefix: a.prefix });
    expect(a.key).not.toBe(b.key);
  });

  it('rejects wrong shapes and checksums without any lookup', () => {
    const { key, prefix } = generateApiKey();
    const flipped = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    for (const bad of [flipped, prefix, `${key}x`, key.slice(0, -1), key.replace('qk_live_', 'qk_test_'), '', 'garbage', `${prefix}.`]) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });

  it('hashes with SHA-256 and compares hashes in constant time', () => {
    const { key } = generateApiKey();
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(sameHash(hashApiKey(key), hashApiKey(key))).toBe(true);
    expect(sameHash(hashApiKey(key), hashApiKey(`${key}1`))).toBe(false);
    expect(sameHash(hashApiKey(key), '')).toBe(false);
  });
});
