import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { TrustedProxies } from '../rate-limits/client-ip.js';
import { configWarnings, loadConfig } from './config.schema.js';

// docker-compose.yml is for users and can't be run here (no Docker): these checks read it against the app's own
// configuration rules, so a renamed variable or a value production refuses is caught without starting it.

interface ComposeFile {
  services: Record<string, { environment?: Record<string, string | number | boolean> }>;
  configs: Record<string, { content?: string }>;
}

const compose = load(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as ComposeFile;
const apiEnvironment = compose.services.api.environment ?? {};

/** A Compose value with nothing set in `.env`: every `${NAME:-default}` becomes its default. */
function withDefaults(value: unknown): string {
  return String(value).replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_match, fallback: string | undefined) => fallback ?? '');
}

const apiEnv = Object.fromEntries(Object.entries(apiEnvironment).map(([name, value]) => [name, withDefaults(value)]));

describe('docker-compose.yml', () => {
  it('gives the API a configuration production accepts, without boot warnings', () => {
    const config = loadConfig(apiEnv);
    expect(config.isProduction).toBe(true);
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.metricsToken).toBeTruthy();
    expect(configWarnings(config)).toEqual([]);
  });

  it('sets only variables the API reads', () => {
    const read = new Set<string>();
    loadConfig(new Proxy(apiEnv, { get: (target, name) => (typeof name === 'string' && read.add(name), target[name as string]) }));
    expect(Object.keys(apiEnv).filter((name) => !read.has(name))).toEqual([]);
  });

  it('trusts the load balancer in every address pool Docker gives compose networks by default', () => {
    const trusted = new TrustedProxies(loadConfig(apiEnv).trustedProxies);
    for (const lb of ['172.18.0.5', '172.31.255.2', '192.168.16.3', '10.10.0.4']) expect(trusted.has(lb), lb).toBe(true);
    expect(trusted.has('203.0.113.9')).toBe(false);
  });

  it('hands Prometheus the token the API requires, and recreates it when the token changes', () => {
    const expression = String(apiEnvironment.METRICS_TOKEN);
    expect(compose.configs.metrics_token.content).toBe(expression);
    expect(compose.services.prometheus.environment?.QUESTLINE_METRICS_TOKEN_REVISION).toBe(expression);
  });
});
