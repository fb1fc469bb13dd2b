import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { MetricsEndpoint } from './metrics-endpoint.decorator.js';
import { METRICS_TOKEN_REQUIRED, MetricsService } from './metrics.service.js';

@ApiTags('health')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('metrics')
  @MetricsEndpoint()
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format).',
    description: [
      'Served when `METRICS_ENABLED` is true (404 otherwise). Outside the API credentials: when `METRICS_TOKEN` is set',
      '(required in production) the request must carry `Authorization: Bearer <METRICS_TOKEN>`.',
      '',
      'Series: default process and Node.js metrics; `http_request_duration_seconds{method,route,status}` (route = the',
      'route template, `unmatched` for unknown paths); `auth_attempts_total{method,outcome}`;',
      '`token_validation_failures_total{reason}`; `api_key_cache_total{result}`; `api_key_loads_total` (database reads of',
      'API keys; concurrent misses of one key share one); `verified_token_cache_total{result}`;',
      '`rate_limit_rejections_total{limit}`; `points_awarded_total`; `jwks_fetch_total{outcome}`; `redis_outages_total`.',
      'No label ever holds a token, key, subject or external user id.',
    ].join('\n'),
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4.', schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ description: METRICS_TOKEN_REQUIRED })
  async scrape(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const { contentType, body } = await this.metrics.scrape(authorization);
    reply.header('content-type', contentType);
    return body;
  }
}
