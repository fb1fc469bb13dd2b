import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { forbidden, notFound } from '../common/domain-error.js';
import { validationFailed } from '../common/validation.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ownerKeyOf, type Stamps } from '../games/tenancy.js';
import { ENSURE_USER_ATTEMPTS, ENSURE_USER_SQL } from './ensure-user.sql.js';

export interface UserRow {
  id: string;
  externalUserId: string;
  createdAt: Date;
}

export const userNotFound = (externalUserId: string) => notFound(`Not found externalUserId : ${externalUserId}`);

const TENANT = /^(key|sub):(.{1,255})$/;


/**
 * End users live in namespaces (owner keys): on game routes the game owner's, on `/users/…` routes the caller's own,
 * or, for an admin, the one named by `?tenant=key:<prefix>|sub:<subject>` (API.md §2).
 */
@Injectable()
export class UserDirectory {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async namespaceFor(auth: AuthContext, tenant?: string): Promise<string> {
    const own = ownerKeyOf(auth);
    if (tenant === undefined) return own;
    const match = TENANT.exec(tenant);
    if (!match) throw validationFailed([{ field: 'tenant', message: 'tenant must be key:<API key prefix> or sub:<token subject>' }]);
    let namespace: string;
    if (match[1] === 'sub') {
      namespace = `sub:${match[2]}`;
    } else {
      const [key] = (await this.dataSource.query(`SELECT id FROM api_keys WHERE prefix = $1`, [match[2]])) as Array<{ id: string }>;
      if (!key) {
        if (!auth.isAdmin) throw forbidden('You do not have permission to access this user');
        throw notFound(`API key not found: ${match[2]}`);
      }
      namespace = `key:${key.id}`;
    }
    if (namespace !== own && !auth.isAdmin) throw forbidden('You do not have permission to access this user');
    return namespace;
  }

  async find(owner: string, externalUserId: string, manager: EntityManager = this.dataSource.manager): Promise<UserRow | undefined> {
    if (externalUserId.includes('\u0000')) return undefined;
    const [user] = (await manager.query(
      `SELECT id, external_user_id AS "externalUserId", created_at AS "createdAt" FROM users WHERE owner = $1 AND external_user_id = $2`,
      [owner, externalUserId],
    )) as UserRow[];
    return user;
  }

  async require(owner: string, externalUserId: string, manager?: EntityManager): Promise<UserRow> {
    const user = await this.find(owner, externalUserId, manager);
    if (!user) throw userNotFound(externalUserId);
    return user;
  }

  /** The user, created with an empty wallet when new (ENSURE_USER_CTES, retried). */
  async ensure(manager: { query(sql: string, parameters?: unknown[]): Promise<unknown[]> }, owner: string, externalUserId: string, stamps: Stamps): Promise<{ id: string; created: boolean }> {
    for (let attempt = 0; attempt < ENSURE_USER_ATTEMPTS; attempt++) {
      const [row] = (await manager.query(
        ENSURE_USER_SQL,
        [owner, externalUserId, stamps.apiKeyUsed, stamps.oauthUserId, this.config.defaultConversionRate],
      )) as Array<{ id: string; created: boolean }>;
      if (row) return row;
    }
    throw new Error('Could not create or find the user');
  }
}
