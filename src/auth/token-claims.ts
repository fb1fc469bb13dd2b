/** Role names compare after normalising case, spaces and hyphens (`Administrator-GAME` = `administratorgame`). */
export function normaliseRole(role: string): string {
  return role.toLowerCase().replace(/[\s-]+/g, '');
}

/** Subject = first non-empty of `sub`, `preferred_username`, `email`, `client_id`, `azp`. */
export function subjectOf(claims: Record<string, unknown>): string | undefined {
  for (const name of ['sub', 'preferred_username', 'email', 'client_id', 'azp']) {
    const value = claims[name];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}

function rolesIn(container: unknown): string[] {
  const roles = (container as { roles?: unknown } | undefined)?.roles;
  return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
}

/**
 * Roles = `realm_access.roles` ∪ `resource_access[clientId].roles`. Other clients' roles are ignored, so a
 * same-named role of an unrelated client can't make an admin.
 */
export function rolesOf(claims: Record<string, unknown>, clientId: string): string[] {
  const resourceAccess = claims.resource_access;
  const clientRoles =
    resourceAccess && typeof resourceAccess === 'object' && Object.hasOwn(resourceAccess, clientId)
      ? rolesIn((resourceAccess as Record<string, unknown>)[clientId])
      : [];
  return [...new Set([...rolesIn(claims.realm_access), ...clientRoles].map(normaliseRole))];
}
