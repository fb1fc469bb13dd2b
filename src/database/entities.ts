import { ApiKey } from '../api-keys/api-key.entity.js';
import { AuditLog } from '../audit/audit-log.entity.js';
import { OAuthUser } from '../auth/oauth-user.entity.js';

/**
 * Every TypeORM entity of the app, listed explicitly (a glob would load a second, metadata-less copy of the
 * classes under the test runner). A module that adds an entity adds it here and writes a migration.
 */
export const entities: Function[] = [
  ApiKey,
  AuditLog,
  OAuthUser,
];
