import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import { ACCESS_RULE, SECURITY_BEARER, type AccessRule } from '../auth/auth.decorators.js';

/**
 * A route outside the credentials guard (no API key or OIDC token is read), protected by its own check: `/metrics`,
 * whose optional bearer is `METRICS_TOKEN`, not a JWT. Documented with the `bearer` scheme (paste the token), or
 * none when no token is configured.
 */
export const MetricsEndpoint = () =>
  applyDecorators(SetMetadata(ACCESS_RULE, 'metrics' satisfies AccessRule), ApiSecurity({}), ApiSecurity(SECURITY_BEARER));
