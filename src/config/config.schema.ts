import { isIP } from 'node:net';

/**
 * The whole environment of the API, validated once at boot. Every variable is listed in the README's
 * configuration table; keep the two in step.
 */
export interface AppConfig {
  nodeEnv: string;
  isProduction: boolean;
  port: number;
  host: string;
  publicUrl: string;
  logLevel: string;

  databaseUrl?: string;
  databasePoolSize: number;
  databaseConnectTimeoutMs: number;
  databaseStatementTimeoutMs: number;
  embeddedPostgresDir: string;

  /** The issuer the API trusts; undefined means the embedded dev identity provider. */
  oidcIssuer?: string;
  /** True when the embedded dev identity provider serves the issuer. */
  devIdentityProvider: boolean;
  keycloakRealm: string;
  keycloakAudience: string;
  keycloakClientId: string;
  swaggerClientId: string;
  adminRole: string;
  jwksUri?: string;
  jwtClockToleranceSeconds: number;
  verifiedTokenCacheSize: number;

  secretKey: string;
  corsOrigins: string[];
  trustedProxies: string[];
  apiKeyCacheTtlSeconds: number;
  redisUrl?: string;

  rateLimitsEnabled: boolean;
  rateLimitWindowSeconds: number;
  rateLimitPerApiKey: number;
  rateLimitPerIp: number;
  rateLimitPerExternalUser: number;
  dailyQuotaPerApiKey: number;
  simulationRateLimit: number;
  simulationDailyQuota: number;
  /** Refused credentials per client address and window before its unverified credentials get 429; 0 = off. */
  authFailureLimitPerIp: number;

  defaultConversionRate: number;
  metricsEnabled: boolean;
  metricsToken?: string;

  bodyLimitBytes: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  shutdownTimeoutMs: number;
}

/** The dev default of SECRET_KEY; refused in production. */
export const DEV_SECRET_KEY = 'questline-dev-secret-key-change-me-in-production';

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max} (got "${value}")`);
      return fallback;
    }
    return Number(value);
  }

  number(name: string, fallback: number, minExclusive: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= minExclusive) {
      this.problems.push(`${name} must be a number greater than ${minExclusive} (got "${value}")`);
      return fallback;
    }
    return parsed;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name} must be true or false (got "${value}")`);
    return fallback;
  }

  url(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
      return value.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name} must be a ${protocols.join(' or ')} URL (got a malformed value)`);
      return undefined;
    }
  }

  list(name: string): string[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
}

/** True when `entry` is an IPv4/IPv6 address or a CIDR range of one. */
export function isIpOrCidr(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length > 0) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d+$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): AppConfig {
  const read = new Reader(env);
  const nodeEnv = read.string('NODE_ENV', 'development');
  const isProduction = nodeEnv === 'production';
  const port = read.int('PORT', 3000, 0, 65535);
  const publicUrl = read.url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`;
  const logLevel = read.string('LOG_LEVEL', 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) read.problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const databaseUrl = read.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const keycloakUrl = read.url('KEYCLOAK_URL', ['http:', 'https:']);
  const keycloakRealm = read.string('KEYCLOAK_REALM', 'questline');
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(keycloakRealm)) {
    read.problems.push('KEYCLOAK_REALM must be 1-100 letters, digits, "_" or "-"');
  }
  const explicitIssuer = read.url('OIDC_ISSUER', ['http:', 'https:']);
  const configuredIssuer = explicitIssuer ?? (keycloakUrl ? `${keycloakUrl}/realms/${keycloakRealm}` : undefined);
  const devIdentityProvider = configuredIssuer === undefined;
  const oidcIssuer = configuredIssuer ?? `${publicUrl}/realms/${keycloakRealm}`;

  const secretKey = read.string('SECRET_KEY', DEV_SECRET_KEY);
  const corsOrigins = read.list('CORS_ORIGINS');
  const trustedProxies = read.list('TRUSTED_PROXY_IPS');
  for (const entry of trustedProxies) {
    if (!isIpOrCidr(entry)) read.problems.push(`TRUSTED_PROXY_IPS has a malformed entry "${entry}" (expected an IP or CIDR)`);
  }

  const config: AppConfig = {
    nodeEnv,
    isProduction,
    port,
    host: read.string('HOST', '0.0.0.0'),
    publicUrl,
    logLevel,
    databaseUrl,
    databasePoolSize: read.int('DATABASE_POOL_SIZE', 10, 1, 500),
    databaseConnectTimeoutMs: read.int('DATABASE_CONNECT_TIMEOUT_MS', 3000, 100, 120_000),
    databaseStatementTimeoutMs: read.int('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
    embeddedPostgresDir: read.string('EMBEDDED_POSTGRES_DIR', '.data/postgres'),
    oidcIssuer,
    devIdentityProvider,
    keycloakRealm,
    keycloakAudience: read.string('KEYCLOAK_AUDIENCE', 'account'),
    keycloakClientId: read.string('KEYCLOAK_CLIENT_ID', 'questline-api'),
    swaggerClientId: read.string('SWAGGER_CLIENT_ID', 'questline-swagger'),
    adminRole: read.string('ADMIN_ROLE', 'AdministratorGAME'),
    jwksUri: read.url('JWKS_URI', ['http:', 'https:']),
    jwtClockToleranceSeconds: read.int('JWT_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
    verifiedTokenCacheSize: read.int('VERIFIED_TOKEN_CACHE_SIZE', 10_000, 0, 1_000_000),
    secretKey,
    corsOrigins,
    trustedProxies,
    apiKeyCacheTtlSeconds: read.int('API_KEY_CACHE_TTL_SECONDS', 5, 0, 3600),
    redisUrl: read.url('REDIS_URL', ['redis:', 'rediss:']),
    rateLimitsEnabled: read.bool('RATE_LIMITS_ENABLED', true),
    rateLimitWindowSeconds: read.int('RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
    rateLimitPerApiKey: read.int('RATE_LIMIT_PER_API_KEY', 120, 0),
    rateLimitPerIp: read.int('RATE_LIMIT_PER_IP', 240, 0),
    rateLimitPerExternalUser: read.int('RATE_LIMIT_PER_EXTERNAL_USER', 60, 0),
    dailyQuotaPerApiKey: read.int('DAILY_QUOTA_PER_API_KEY', 10_000, 0),
    simulationRateLimit: read.int('SIMULATION_RATE_LIMIT', 10, 0),
    simulationDailyQuota: read.int('SIMULATION_DAILY_QUOTA', 500, 0),
    authFailureLimitPerIp: read.int('AUTH_FAILURE_LIMIT_PER_IP', 100, 0),
    defaultConversionRate: read.number('DEFAULT_CONVERSION_RATE', 100, 0),
    metricsEnabled: read.bool('METRICS_ENABLED', true),
    metricsToken: read.raw('METRICS_TOKEN'),
    bodyLimitBytes: read.int('BODY_LIMIT_BYTES', 1_048_576, 1024, 100 * 1_048_576),
    requestTimeoutMs: read.int('REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000),
    keepAliveTimeoutMs: read.int('KEEP_ALIVE_TIMEOUT_MS', 5000, 100, 600_000),
    shutdownTimeoutMs: read.int('SHUTDOWN_TIMEOUT_MS', 8000, 100, 120_000),
  };

  if (isProduction) {
    if (!databaseUrl) read.problems.push('DATABASE_URL is required in production (the embedded PostgreSQL is for development)');
    if (devIdentityProvider) {
      read.problems.push('KEYCLOAK_URL or OIDC_ISSUER is required in production (the embedded identity provider is for development)');
    }
    if (secretKey === DEV_SECRET_KEY || secretKey.length < 32) {
      read.problems.push('SECRET_KEY must be set to a secret of at least 32 characters in production');
    }
    if (corsOrigins.includes('*')) read.problems.push('CORS_ORIGINS must list origins in production, not "*"');
    if (config.metricsEnabled && !config.metricsToken) {
      read.problems.push('METRICS_TOKEN is required in production while METRICS_ENABLED is true');
    }
  }

  if (read.problems.length > 0) throw new ConfigValidationError(read.problems);
  return config;
}

/**
 * Settings that are valid but probably not what a production deployment wants; the app logs each at boot (a warning,
 * not a refusal: each is right for some deployments).
 */
export function configWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  if (!config.isProduction) return warnings;
  const perIpLimits = config.rateLimitsEnabled && (config.rateLimitPerIp > 0 || config.authFailureLimitPerIp > 0);
  if (config.trustedProxies.length === 0 && perIpLimits) {
    warnings.push(
      'TRUSTED_PROXY_IPS is empty, so each client is the address its TCP connection comes from. Behind a load balancer or ' +
        'proxy every client then shares its address, and one client can use up the per-IP limits (RATE_LIMIT_PER_IP, ' +
        "AUTH_FAILURE_LIMIT_PER_IP) for all of them: list the proxy's addresses (or set the limits to 0).",
    );
  }
  return warnings;
}
