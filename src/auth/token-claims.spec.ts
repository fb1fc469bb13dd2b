import { describe, expect, it } from 'vitest';
import { normaliseRole, rolesOf, subjectOf } from './token-claims.js';

describe('token claims', () => {
  it('normalises role names by case, spaces and hyphens', () => {
    expect(normaliseRole('Administrator-GAME')).toBe('administratorgame');
    expect(normaliseRole('administrator game')).toBe('administratorgame');
    expect(normaliseRole('AdministratorGAME')).toBe('administratorgame');
  });

  it('takes the subject from the first non-empty claim of the fallback chain', () => {
    expect(subjectOf({ sub: 'a', preferred_username: 'b' })).toBe('a');
    expect(subjectOf({ sub: '', preferred_username: 'b' })).toBe('b');
    expect(subjectOf({ email: 'c@x.io', client_id: 'd' })).toBe('c@x.io');
    expect(subjectOf({ azp: 'only-azp' })).toBe('only-azp');
    expect(subjectOf({ sub: 42 })).toBeUndefined();
    expect(subjectOf({})).toBeUndefined();
  });

  it('reads realm roles and the API client’s roles only', () => {
    const claims = {
      realm_access: { roles: ['user', 'Offline Access'] },
      resource_access: { 'questline-api': { roles: ['Administrator-GAME'] }, 'other-app': { roles: ['superuser'] } },
    };
    expect(rolesOf(claims, 'questline-api').sort()).toEqual(['administratorgame', 'offlineaccess', 'user']);
    expect(rolesOf({ resource_access: { 'other-app': { roles: ['AdministratorGAME'] } } }, 'questline-api')).toEqual([]);
    expect(rolesOf({ realm_access: 'nonsense', resource_access: { 'questline-api': { roles: [1, 'x'] } } }, 'questline-api')).toEqual(['x']);
  });
});
