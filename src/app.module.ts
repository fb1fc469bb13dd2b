import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConfigModule, DEV_IDENTITY_PROVIDER, type InProcessIdentityProvider } from './config/config.module.js';
import type { AppConfig } from './config/config.schema.js';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './database/data-source.js';
import { runMigrationsLocked } from './database/migrate.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { CommonModule } from './common/common.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { MetricsModule } from './observability/metrics.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { ExportsModule } from './exports/exports.module.js';
import { RateLimitsModule } from './rate-limits/rate-limits.module.js';
import { GamificationModule } from './games/gamification.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, devIdentityProvider?: InProcessIdentityProvider): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, devIdentityProvider),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(config.databaseUrl, {
              poolSize: config.databasePoolSize,
              connectTimeoutMs: config.databaseConnectTimeoutMs,
              statementTimeoutMs: config.databaseStatementTimeoutMs,
            }),
            retryAttempts: process.env.VITEST ? 0 : 5,
            retryDelay: 2000,
          }),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await runMigrationsLocked(dataSource);
            return dataSource;
          },
        }),
        CommonModule,
        AuditModule,
        AuthModule,
        ApiKeysModule,
        RateLimitsModule,
        GamificationModule,
        ObservabilityModule,
        MetricsModule.forRoot(config),
        DashboardModule,
        ExportsModule,
      ],
    };
  }
}
