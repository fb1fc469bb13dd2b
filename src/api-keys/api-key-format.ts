import { hash, randomInt, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * API key text (API.md §1): `qk_live_` + 8 base62 chars is the public prefix; the key is
 * `<prefix>.<32 base62 secret chars><6 base62 checksum chars>`, the checksum being CRC32 (IEEE, as zlib) of the
 * text before it, in base62, left-padded with `0`. A wrong shape or checksum is rejected before any lookup.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_PREFIX_PATTERN = /^qk_live_[0-9A-Za-z]{8}$/;
const KEY_HEAD = 'qk_live_';
const PREFIX_LENGTH = KEY_HEAD.length + 8;

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
  return KEY_HEAD + randomBase62(8);
}

export function generateApiKey(prefix = generatePrefix()): { prefix: string; key: string } {
  return { prefix, key: composeApiKey(prefix, randomBase62(32)) };
}

const KEY_LENGTH = PREFIX_LENGTH + 1 + 32 + 6;
const CHECKSUM_AT = KEY_LENGTH - 6;
/** Base62 digit of each ASCII code, -1 for any other character. */
const BASE62_DIGIT = new Int8Array(128).fill(-1);
for (let digit = 0; digit < BASE62.length; digit++) BASE62_DIGIT[BASE62.charCodeAt(digit)] = digit;
/** CRC-32 (IEEE 802.3, reflected, as zlib) lookup table. */
const CRC_TABLE = new Int32Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  CRC_TABLE[byte] = crc;
}

/**
 * The prefix of a well-formed key with a valid checksum, else null — decided before any cache or database lookup
 * (API.md §1). One pass over the characters: the shape (`qk_live_` + 8 base62, `.`, 38 base62), the CRC-32 of the
 * 49 characters before the checksum (all ASCII once the shape holds, so they are their own UTF-8 bytes) and the
 * checksum's base62 value. Every request with a key runs it; it costs less than the regular expression alone did,
 * and about half of that plus zlib's `crc32` (a native call on a fresh UTF-8 copy).
 */
export function prefixOfValidKey(key: string): string | null {
  if (key.length !== KEY_LENGTH || key.charCodeAt(PREFIX_LENGTH) !== 46 /* . */ || !key.startsWith(KEY_HEAD)) return null;
  let crc = -1;
  for (let index = 0; index < KEY_HEAD.length; index++) crc = CRC_TABLE[(crc ^ key.charCodeAt(index)) & 0xff] ^ (crc >>> 8);
  for (let index = KEY_HEAD.length; index < CHECKSUM_AT; index++) {
    const code = key.charCodeAt(index);
    if (index !== PREFIX_LENGTH && (code > 127 || BASE62_DIGIT[code] < 0)) return null;
    crc = CRC_TABLE[(crc ^ code) & 0xff] ^ (crc >>> 8);
  }
  let checksum = 0;
  for (let index = CHECKSUM_AT; index < KEY_LENGTH; index++) {
    const code = key.charCodeAt(index);
    if (code > 127 || BASE62_DIGIT[code] < 0) return null;
    checksum = checksum * 62 + BASE62_DIGIT[code];
  }
  return (crc ^ -1) >>> 0 === checksum ? key.slice(0, PREFIX_LENGTH) : null;
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
