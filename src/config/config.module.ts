import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from './config.schema.js';

/** Injection token of the validated {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Injection token of the embedded dev identity provider when it serves the issuer (null otherwise), so the token
 * verifier can read its signing keys in-process.
 */
export const DEV_IDENTITY_PROVIDER = Symbol('DEV_IDENTITY_PROVIDER');

export interface InProcessIdentityProvider {
  readonly issuer: string;
  publicJwks(): { keys: Array<Record<string, unknown>> };
}

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, devIdentityProvider?: InProcessIdentityProvider): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: DEV_IDENTITY_PROVIDER, useValue: devIdentityProvider ?? null },
      ],
      exports: [APP_CONFIG, DEV_IDENTITY_PROVIDER],
    };
  }
}
