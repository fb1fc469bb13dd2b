// No dependencies: the award's read (award.sql.ts, shared with the benchmark's baseline) uses it too.

/**
 * A correlated subquery: the params of one game or task as a JSON array of `{id, key, value}` in the order every
 * response lists them (creation, then key). `ownerId` is the SQL expression of the game's or task's id.
 */
export function paramsJson(table: 'game_params' | 'task_params', ownerId: string): string {
  const column = table === 'game_params' ? 'game_id' : 'task_id';
  return `(SELECT COALESCE(json_agg(json_build_object('id', p.id, 'key', p.key, 'value', p.value) ORDER BY p.created_at, p.key), '[]')
     FROM ${table} p WHERE p.${column} = ${ownerId})`;
}
