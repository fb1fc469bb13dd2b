import { describe, expect, it } from 'vitest';
import { ConfigValidationError, configWarnings, DEV_SECRET_KEY, isIpOrCidr, loadConfig } from './config.schema.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('starts with no environment at all: embedded database and identity provider', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.devIdentityProvider).toBe(true);
    expect(config.oidcIssuer).toBe('http://localhost:3000/realms/questline');
    expect(config.keycloakAudience).toBe('account');
    expect(config.adminRole).toBe('AdministratorGAME');
    expect(config.rateLimitPerApiKey).toBe(120);
  });

  it('derives the issuer from KEYCLOAK_URL and realm, or takes OIDC_ISSUER', () => {
    expect(loadConfig({ KEYCLOAK_URL: 'https://sso.example.com/', KEYCLOAK_REALM: 'acme' }).oidcIssuer).toBe('https://sso.example.com/realms/acme');
    const explicit = loadConfig({ OIDC_ISSUER: 'https://id.example.com/realms/x', KEYCLOAK_URL: 'https://ignored.example.com' });
    expect(explicit.oidcIssuer).toBe('https://id.example.com/realms/x');
    expect(explicit.devIdentityProvider).toBe(false);
  });

  it('names every malformed variable, in every environment', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      TRUSTED_PROXY_IPS: '10.0.0.0/8, 300.1.1.1, ::1/129',
      DATABASE_URL: 'mysql://nope',
      RATE_LIMITS_ENABLED: 'maybe',
      RATE_LIMIT_PER_IP: '-1',
      AUTH_FAILURE_LIMIT_PER_IP: 'many',
      DEFAULT_CONVERSION_RATE: '0',
      LOG_LEVEL: 'chatty',
    });
    const text = problems.join('\n');
    for (const name of ['PORT', 'TRUSTED_PROXY_IPS has a malformed entry "300.1.1.1"', '"::1/129"', 'DATABASE_URL', 'RATE_LIMITS_ENABLED', 'RATE_LIMIT_PER_IP', 'AUTH_FAILURE_LIMIT_PER_IP', 'DEFAULT_CONVERSION_RATE', 'LOG_LEVEL']) {
      expect(text).toContain(name);
    }
    expect(problems).toHaveLength(9);
    expect(() => loadConfig({ PORT: 'x' })).toThrow(/Invalid configuration:\n {2}- PORT must be an integer/);
  });

  it('refuses dev defaults in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production', CORS_ORIGINS: '*' }).join('\n');
    expect(problems).toContain('DATABASE_URL is required in production');
    expect(problems).toContain('KEYCLOAK_URL or OIDC_ISSUER is required in production');
    expect(problems).toContain('SECRET_KEY must be set');
    expect(problems).toContain('CORS_ORIGINS must list origins in production');
    expect(problems).toContain('METRICS_TOKEN is required in production');
    expect(problemsOf({ NODE_ENV: 'production', SECRET_KEY: 'short' }).join()).toContain('SECRET_KEY');
    expect(problemsOf({ NODE_ENV: 'production', SECRET_KEY: DEV_SECRET_KEY }).join()).toContain('SECRET_KEY');
    expect(
      problemsOf({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://u:p@db:5432/questline',
        KEYCLOAK_URL: 'https://sso.example.com',
        SECRET_KEY: 'x'.repeat(32),
        CORS_ORIGINS: 'https://app.example.com',
        METRICS_TOKEN: 'scrape-me',
      }),
    ).toEqual([]);
  });

  it('recognises IPs and CIDRs', () => {
    for (const good of ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '172.16.0.0/12']) expect(isIpOrCidr(good)).toBe(true);
    for (const bad of ['localhost', '10.0.0.0/33', '1.2.3', '::1/200', '10.0.0.0/8/1', '10.0.0.0/x']) expect(isIpOrCidr(bad)).toBe(false);
  });

  it('warns in production when the per-IP limits would count a proxy instead of its clients', () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://q:q@db:5432/q',
      OIDC_ISSUER: 'https://id.example.com/realms/q',
      SECRET_KEY: 'x'.repeat(40),
      CORS_ORIGINS: 'https://app.example.com',
      METRICS_TOKEN: 'scrape-token',
    };
    const [warning] = configWarnings(loadConfig(production));
    expect(warning).toContain('TRUSTED_PROXY_IPS is empty');
    expect(configWarnings(loadConfig({ ...production, TRUSTED_PROXY_IPS: '10.0.0.0/8' }))).toEqual([]);
    expect(configWarnings(loadConfig({ ...production, RATE_LIMIT_PER_IP: '0', AUTH_FAILURE_LIMIT_PER_IP: '0' }))).toEqual([]);
    expect(configWarnings(loadConfig({ ...production, RATE_LIMITS_ENABLED: 'false' }))).toEqual([]);
    expect(configWarnings(loadConfig({}))).toEqual([]); // development: a laptop has no proxy
  });
});
