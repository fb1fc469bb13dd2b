import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { AuthModule } from '../auth/auth.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { PointsMetrics } from './points-metrics.js';

/**
 * Prometheus metrics. {@link PointsMetrics}, which the award path bumps, is global and always present; the registry,
 * the latency hook and `/metrics` exist only when `METRICS_ENABLED`. (The rate limiter's counters live in
 * `rate-limits/`, global too.)
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MetricsModule,
      imports: config.metricsEnabled ? [AuthModule, ApiKeysModule] : [],
      controllers: config.metricsEnabled ? [MetricsController] : [],
      providers: [PointsMetrics, ...(config.metricsEnabled ? [MetricsService] : [])],
      exports: [PointsMetrics],
    };
  }
}
