import { hash, randomInt, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * API key text (API.md §1): `qk_live_` + 8 base62 chars is the public prefix; the key is
 * `<prefix>.<32 base62 secret chars><6 base62 checksum chars>`, the checksum being CRC32 (IEEE, as zlib) of the
 * text before it, in base62, left-padded with `0`. A wrong shape or checksum is rejected before any lookup.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_PREFIX_PATTERN = /^qk_live_[0-9A-Za-z]{8}$/;
const PREFIX_LENGTH = 'qk_live_'.length + 8;
const API_KEY_PATTERN = /^(qk_live_[0-9A-Za-z]{8})\.([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

export function toBase62(value: number, width: number): string {
  let text = '';
  let rest = value;
  do {
    text = BASE62[rest % 62] + text;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return text.padStart(width, '0');
}

function randomBase62(length: number): string {
  let text = '';
  for (let index = 0; index < length; index++) text += BASE62[randomInt(62)];
  return text;
}

export function checksumOf(text: string): string {
  return toBase62(crc32(text), 6); // zlib's crc32 reads the string as UTF-8 itself
}

export function composeApiKey(prefix: string, secret: string): string {
  const body = `${prefix}.${secret}`;
  return body + checksumOf(body);
}

export function generatePrefix(): string {
  return `qk_live_${randomBase62(8)}`;
}

export function generateApiKey(prefix = generatePrefix()): { prefix: string; key: string } {
  return { prefix, key: composeApiKey(prefix, randomBase62(32)) };
}

/** The prefix of a key of the right shape, checksum unchecked, else null. */
export function prefixOfShape(key: string): string | null {
  // `test` builds no match array; the prefix is the first 16 characters of a key of this shape.
  return API_KEY_PATTERN.test(key) ? key.slice(0, PREFIX_LENGTH) : null;
}

/** The prefix of a well-formed key with a valid checksum, else null. */
export function parseApiKey(key: string): { prefix: string } | null {
  const match = API_KEY_PATTERN.exec(key);
  if (!match) return null;
  const [, prefix, secret, checksum] = match;
  return checksumOf(`${prefix}.${secret}`) === checksum ? { prefix } : null;
}

/** The stored form of a key: its SHA-256 digest, hex. */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/**
 * A presented key's SHA-256 digest as the bytes of its hex text, to compare with a stored hash decoded by
 * {@link digestOfHash}. (Hex text into a Buffer costs less than asking for a Buffer digest, which allocates natively.)
 */
export function digestApiKey(key: string): Buffer {
  return digestOfHash(hashApiKey(key));
}

/** A stored hash (hex) in the form {@link digestApiKey} gives. */
export function digestOfHash(storedHash: string): Buffer {
  return Buffer.from(storedHash, 'latin1');
}

/** Constant-time comparison of two digests. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}
