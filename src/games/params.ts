import type { EntityManager } from 'typeorm';
import type { FieldError } from '../common/domain-error.js';
import { validationFailed } from '../common/validation.js';
import type { ParamLike, StrategyRegistry } from '../strategies/strategy-registry.js';
import type { ScoringStrategy } from '../strategies/strategy.js';
import type { Stamps } from './tenancy.js';

/** Duplicate keys in one request (each key names one param). */
export function duplicateKeyErrors(params: readonly ParamLike[], field = 'params'): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  params.forEach((param, index) => {
    if (seen.has(param.key)) errors.push({ field: `${field}.${index}.key`, message: `key ${param.key} is given more than once` });
    seen.add(param.key);
  });
  return errors;
}

/** 422 unless the keys are distinct and every value has the type of the variable it names. */
export function assertValidParams(registry: StrategyRegistry, strategy: ScoringStrategy, params: readonly ParamLike[], field = 'params'): void {
  const errors = [...duplicateKeyErrors(params, field), ...registry.checkParams(strategy, params, field)];
  if (errors.length > 0) throw validationFailed(errors);
}

/** The params as one JSON array argument (`[{key, value}]`). */
export const paramsJson = (params: readonly ParamLike[]) => JSON.stringify(params.map(({ key, value }) => ({ key, value })));

export async function insertParams(
  manager: EntityManager,
  table: 'game_params' | 'task_params',
  ownerId: string,
  params: readonly ParamLike[],
  stamps: Stamps,
): Promise<void> {
  if (params.length === 0) return;
  const column = table === 'game_params' ? 'game_id' : 'task_id';
  await manager.query(
    // Params are listed in the order they were given: created_at increases by a microsecond per param.
    `INSERT INTO ${table} (${column}, key, value, api_key_used, oauth_user_id, created_at)
     SELECT $1, p.param->>'key', p.param->'value', $2, $3, now() + p.position * interval '1 microsecond'
     FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS p(param, position)`,
    [ownerId, stamps.apiKeyUsed, stamps.oauthUserId, paramsJson(params)],
  );
}

export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })?.driverError ?? (error as { code?: string; constraint?: string });
  return driverError?.code === UNIQUE_VIOLATION && (constraint === undefined || driverError.constraint === constraint);
}
