import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksumOf, composeApiKey, digestApiKey, digestOfHash, generateApiKey, hashApiKey, prefixOfValidKey, sameDigest, toBase62 } from './api-key-format.js';

/** API.md §1 word for word: the shape as a regular expression, the checksum with zlib's CRC-32 (`checksumOf`). */
function reference(key: string): string | null {
  const match = /^(qk_live_[0-9A-Za-z]{8})\.([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/.exec(key);
  return match && checksumOf(`${match[1]}.${match[2]}`) === match[3] ? match[1] : null;
}

describe('API key format', () => {
  it('matches the test vector of API.md §1', () => {
    expect(toBase62(3188695425, 6)).toBe('3TnRLN');
    expect(checksumOf('qk_live_3fA9kQ2z.Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56')).toBe('3TnRLN');
    expect(composeApiKey('qk_live_3fA9kQ2z', 'Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56')).toBe(
      'qk_live_3fA9kQ2z.Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op563TnRLN',
    );
    expect(prefixOfValidKey('qk_live_3fA9kQ2z.Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op563TnRLN')).toBe('qk_live_3fA9kQ2z');
    expect(prefixOfValidKey('qk_live_3fA9kQ2z.Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op563TnRLM')).toBeNull();
  });

  it('generates keys that parse, with fresh prefixes and secrets', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^qk_live_[0-9A-Za-z]{8}\.[0-9A-Za-z]{38}$/);
    expect(prefixOfValidKey(a.key)).toBe(a.prefix);
    expect(a.key).not.toBe(b.key);
  });

  it('rejects wrong shapes and checksums before any lookup', () => {
    const { key, prefix } = generateApiKey();
    const flipped = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    const badChecksum = key.slice(0, -1) + (key.endsWith('0') ? '1' : '0');
    for (const bad of [flipped, badChecksum, prefix, `${key}x`, key.slice(0, -1), key.replace('qk_live_', 'qk_test_'), '', 'garbage', `${prefix}.`]) {
      expect(prefixOfValidKey(bad)).toBeNull();
    }
    // Non-ASCII look-alikes and a checksum above 2³² (6 base62 digits reach 62⁶) are refused too.
    expect(prefixOfValidKey(key.slice(0, 20) + 'é' + key.slice(21))).toBeNull();
    expect(prefixOfValidKey(key.slice(0, 20) + '\u0161' + key.slice(21))).toBeNull();
    expect(prefixOfValidKey(key.slice(0, -6) + 'zzzzzz')).toBeNull();
  });

  it('decides exactly as the regular expression and zlib CRC-32 of API.md §1 do', () => {
    const base62 = fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
    const near = fc.oneof(base62, fc.constantFrom('.', '_', '-', ' ', 'é', '\u0000', '\uD83D', 'ｑ'));
    const realKey = fc.tuple(fc.string({ unit: base62, minLength: 8, maxLength: 8 }), fc.string({ unit: base62, minLength: 32, maxLength: 32 })).map(([tail, secret]) =>
      composeApiKey(`qk_live_${tail}`, secret),
    );
    // Real keys, one character changed, inserted or removed, and arbitrary strings.
    const mutated = fc.tuple(realKey, fc.nat(60), near, fc.constantFrom('replace', 'insert', 'delete')).map(([key, at, char, how]) => {
      const index = at % key.length;
      if (how === 'replace') return key.slice(0, index) + char + key.slice(index + 1);
      if (how === 'insert') return key.slice(0, index) + char + key.slice(index);
      return key.slice(0, index) + key.slice(index + 1);
    });
    fc.assert(
      fc.property(fc.oneof(realKey, mutated, fc.string({ unit: near, minLength: 50, maxLength: 60 }), fc.string()), (candidate) => {
        expect(prefixOfValidKey(candidate)).toBe(reference(candidate));
      }),
      { numRuns: 20_000 },
    );
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
