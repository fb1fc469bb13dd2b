import { describe, expect, it } from 'vitest';
import { checksumOf, composeApiKey, digestApiKey, digestOfHash, generateApiKey, hashApiKey, parseApiKey, prefixOfShape, sameDigest, toBase62 } from './api-key-format.js';

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
    // The shape alone (a key whose row is cached is decided by its hash): the checksum is not read.
    expect(prefixOfShape(flipped)).toBe(prefix);
    expect(prefixOfShape(key)).toBe(prefix);
    for (const bad of [prefix, `${key}x`, key.slice(0, -1), key.replace('qk_live_', 'qk_test_'), '', 'garbage', `${prefix}.`]) {
      expect(prefixOfShape(bad)).toBeNull();
    }
  });

  it('hashes with SHA-256 and compares hashes in constant time', () => {
    const { key } = generateApiKey();
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(digestOfHash(hashApiKey(key)).equals(digestApiKey(key))).toBe(true);
    expect(sameDigest(digestApiKey(key), digestOfHash(hashApiKey(key)))).toBe(true);
    expect(sameDigest(digestApiKey(key), digestApiKey(`${key}1`))).toBe(false);
    expect(sameDigest(digestApiKey(key), Buffer.alloc(0))).toBe(false);
    expect(sameDigest(Buffer.alloc(0), Buffer.alloc(0))).toBe(false);
  });
});
