import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type FindOptionsSelect } from 'typeorm';
import type { ApiKeyIdentity, AuthContext } from '../auth/auth-context.js';
import { AuditLogger } from '../audit/audit-logger.service.js';
import { conflict, DomainError, forbidden, notFound } from '../common/domain-error.js';
import { fetchPage, resolvePage, type Page } from '../common/pagination.js';
import { validationFailed } from '../common/validation.js';
import { appLogger } from '../observability/logger.js';
import { ApiKeyCache, type CachedApiKey } from './api-key-cache.js';
import { API_KEY_PREFIX_PATTERN, digestApiKey, digestOfHash, generateApiKey, generatePrefix, hashApiKey, prefixOfValidKey, sameDigest } from './api-key-format.js';
import { ApiKey } from './api-key.entity.js';
import type {
  ApiKeySummaryDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  ListApiKeysQueryDto,
  RevokedApiKeyDto,
  RotateApiKeyDto,
  RotatedApiKeyDto,
} from './api-keys.dto.js';

export const API_KEY_INVALID = 'API key is invalid or does not exist.';
export const API_KEY_INACTIVE = 'API key is inactive. Please contact an admin.';
export const API_KEY_EXPIRED = 'API key has expired.';

const LAST_USED_WRITE_INTERVAL_MS = 60_000;
const CACHED_COLUMNS: FindOptionsSelect<ApiKey> = {
  id: true,
  prefix: true,
  secretHash: true,
  previousSecretHash: true,
  previousValidUntil: true,
  client: true,
  scopes: true,
  active: true,
  expiresAt: true,
};

/** Why a key was refused; the guard maps it to a status, a detail and a metric. */
export class ApiKeyRejected extends DomainError {
  constructor(readonly reason: 'invalid' | 'inactive' | 'expired') {
    super('forbidden', reason === 'invalid' ? API_KEY_INVALID : reason === 'inactive' ? API_KEY_INACTIVE : API_KEY_EXPIRED);
  }
}

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

@Injectable()
export class ApiKeysService {
  private readonly lastUsedWrites = new Map<string, number>();
  private readonly loading = new Map<string, { generation: number; read: Promise<CachedApiKey | null> }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cache: ApiKeyCache,
    private readonly audit: AuditLogger,
  ) {}

  /**
   * Checks a presented key against its cached row: shape and checksum first (a key failing them is refused before any
   * cache or database lookup, API.md §1), then the hash in constant time, then revocation and expiry — on every call.
   * Returns the identity, or `undefined` when the key's row is not cached (then call {@link verifyUncached}); a
   * refused key throws either way. Synchronous, so the credentials guard waits on no promise for a known key.
   */
  verifyCached(presented: string, now = Date.now()): ApiKeyIdentity | undefined {
    const prefix = prefixOfValidKey(presented);
    if (prefix === null) throw new ApiKeyRejected('invalid');
    const row = this.cache.get(prefix, now);
    return row === undefined ? undefined : this.check(presented, row, now);
  }

  /** {@link verifyCached}'s checks once the key's row (or its absence) is loaded into the cache; concurrent misses of one key share one query. */
  async verifyUncached(presented: string, now = Date.now()): Promise<ApiKeyIdentity> {
    const prefix = prefixOfValidKey(presented);
    if (prefix === null) throw new ApiKeyRejected('invalid');
    return this.check(presented, await this.load(prefix), now);
  }

  /**
   * The key's row (null: no such key) from the database, cached. Concurrent misses share one read — unless an
   * invalidation landed since that read began: a request arriving after a revocation must not get a row read before it.
   */
  private load(prefix: string): Promise<CachedApiKey | null> {
    const generation = this.cache.current;
    const inFlight = this.loading.get(prefix);
    if (inFlight && inFlight.generation === generation) return inFlight.read;
    this.cache.loads++;
    const read: Promise<CachedApiKey | null> = this.dataSource
      .getRepository(ApiKey)
      .findOne({ select: CACHED_COLUMNS, where: { prefix } })
      .then((found) => {
        const row: CachedApiKey | null = found && {
          id: found.id,
          prefix: found.prefix,
          secretDigest: digestOfHash(found.secretHash),
          previousSecretDigest: found.previousSecretHash === null ? null : digestOfHash(found.previousSecretHash),
          previousValidUntil: found.previousValidUntil,
          client: found.client,
          scopes: found.scopes,
          active: found.active,
          expiresAt: found.expiresAt,
          identity: Object.freeze({
            id: found.id,
            prefix: found.prefix,
            client: found.client,
            scopes: Object.freeze([...found.scopes]) as ApiKeyIdentity['scopes'],
            expiresAt: found.expiresAt,
          }),
        };
        this.cache.set(prefix, row, generation);
        return row;
      })
      .finally(() => {
        if (this.loading.get(prefix)?.read === read) this.loading.delete(prefix);
      });
    this.loading.set(prefix, { generation, read });
    return read;
  }

  private check(presented: string, row: CachedApiKey | null, now: number): ApiKeyIdentity {
    if (!row) throw new ApiKeyRejected('invalid');
    const digest = digestApiKey(presented);
    const current = sameDigest(digest, row.secretDigest);
    const previous =
      !current &&
      row.previousSecretDigest !== null &&
      row.previousValidUntil !== null &&
      row.previousValidUntil.getTime() > now &&
      sameDigest(digest, row.previousSecretDigest);
    if (!current && !previous) throw new ApiKeyRejected('invalid');
    if (!row.active) throw new ApiKeyRejected('inactive');
    if (row.expiresAt && row.expiresAt.getTime() <= now) throw new ApiKeyRejected('expired');
    this.touch(row.id, now);
    return row.identity;
  }

  /** Records `lastUsedAt` at most once a minute per key, off the request's path. */
  private touch(id: string, now: number): void {
    const last = this.lastUsedWrites.get(id) ?? 0;
    if (now - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastUsedWrites.set(id, now);
    this.dataSource
      .query(
        `UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`,
        [id, new Date(now)],
      )
      .catch(() => appLogger().warn({ component: 'api-keys' }, 'could not record lastUsedAt'));
  }

  private requireAdmin(auth: AuthContext, detail: string): string {
    if (!auth.isAdmin || !auth.oauthUserId) throw forbidden(detail);
    return auth.oauthUserId;
  }

  async create(auth: AuthContext, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const createdBy = this.requireAdmin(auth, 'You do not have permission to create an API key');
    const expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw validationFailed([{ field: 'expiresAt', message: 'expiresAt must be a time in the future' }]);
    }
    const scopes = dto.scopes ?? ['read', 'write'];
    return this.dataSource.transaction(async (manager) => {
      // A prefix collision (62^8 values) is retried with a fresh prefix rather than surfacing as an error.
      for (let attempt = 0; ; attempt++) {
        const { prefix, key } = generateApiKey(generatePrefix());
        const inserted = await manager
          .createQueryBuilder()
          .insert()
          .into(ApiKey)
          .values({ prefix, secretHash: hashApiKey(key), client: dto.client, description: dto.description, scopes, expiresAt, createdBy })
          .orIgnore()
          .returning(['id', 'createdAt'])
          .execute();
        const row = inserted.raw[0] as { id: string } | undefined;
        if (!row) {
          if (attempt < 5) continue;
          throw new Error('could not allocate a unique API key prefix');
        }
        await this.audit.log(
          auth,
          { module: 'api-keys', message: 'API key created', details: { apiKey: prefix, keyId: row.id, client: dto.client, scopes, expiresAt: iso(expiresAt) } },
          manager,
        );
        return {
          id: row.id,
          apiKey: prefix,
          plaintext: key,
          client: dto.client,
          description: dto.description,
          scopes,
          expiresAt: iso(expiresAt),
          createdBy,
          message: 'API Key created successfully',
        };
      }
    });
  }

  async list(auth: AuthContext, query: ListApiKeysQueryDto): Promise<Page<ApiKeySummaryDto>> {
    this.requireAdmin(auth, 'You do not have permission to get all API keys');
    const page = resolvePage(
      query,
      { created_at: 'key.created_at', client: 'key.client', lastUsedAt: 'key.last_used_at', expiresAt: 'key.expires_at' },
      '-created_at',
    );
    const builder = this.dataSource.getRepository(ApiKey).createQueryBuilder('key');
    if (query.active !== undefined) builder.where('key.active = :active', { active: query.active });
    return fetchPage(builder, page, (row) => ({
      id: row.id,
      apiKey: row.prefix,
      client: row.client,
      description: row.description,
      scopes: row.scopes,
      active: row.active,
      expiresAt: iso(row.expiresAt),
      createdBy: row.createdBy,
      created_at: row.createdAt.toISOString(),
      lastUsedAt: iso(row.lastUsedAt),
    }));
  }

  private async lockByPrefix(manager: DataSource['manager'], prefix: string): Promise<ApiKey> {
    const row = API_KEY_PREFIX_PATTERN.test(prefix)
      ? await manager.getRepository(ApiKey).findOne({ where: { prefix }, lock: { mode: 'pessimistic_write' } })
      : null;
    if (!row) throw notFound(`API key not found: ${prefix}`);
    return row;
  }

  async revoke(auth: AuthContext, prefix: string): Promise<RevokedApiKeyDto> {
    this.requireAdmin(auth, 'You do not have permission to revoke an API key');
    await this.dataSource.transaction(async (manager) => {
      const row = await this.lockByPrefix(manager, prefix);
      if (!row.active) return; // idempotent: already revoked
      await manager.update(ApiKey, { id: row.id }, { active: false, revokedAt: new Date(), previousSecretHash: null, previousValidUntil: null });
      await this.audit.log(auth, { module: 'api-keys', message: 'API key revoked', details: { apiKey: prefix, keyId: row.id } }, manager);
    });
    await this.cache.invalidate(prefix);
    return { apiKey: prefix, active: false, message: 'API key revoked successfully.' };
  }

  async rotate(auth: AuthContext, prefix: string, dto: RotateApiKeyDto): Promise<RotatedApiKeyDto> {
    this.requireAdmin(auth, 'You do not have permission to revoke an API key');
    const grace = dto.gracePeriodSeconds ?? 0;
    const result = await this.dataSource.transaction(async (manager) => {
      const row = await this.lockByPrefix(manager, prefix);
      if (!row.active) throw conflict(API_KEY_INACTIVE);
      const { key } = generateApiKey(prefix);
      const previousValidUntil = grace > 0 ? new Date(Date.now() + grace * 1000) : null;
      await manager.update(
        ApiKey,
        { id: row.id },
        { secretHash: hashApiKey(key), previousSecretHash: previousValidUntil ? row.secretHash : null, previousValidUntil },
      );
      await this.audit.log(
        auth,
        { module: 'api-keys', message: 'API key rotated', details: { apiKey: prefix, keyId: row.id, gracePeriodSeconds: grace } },
        manager,
      );
      return { apiKey: prefix, plaintext: key, previousKeyValidUntil: iso(previousValidUntil) };
    });
    await this.cache.invalidate(prefix);
    return result;
  }
}
