import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { AuthMetrics } from './auth-metrics.js';
import { AuthController } from './auth.controller.js';
import { CredentialsGuard } from './credentials.guard.js';
import { JwtStrategy } from './jwt.strategy.js';
import { OAuthUsersService } from './oauth-users.service.js';
import { SigningKeyProvider } from './signing-keys.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

@Module({
  imports: [PassportModule, ApiKeysModule],
  controllers: [AuthController],
  providers: [
    JwtStrategy,
    SigningKeyProvider,
    VerifiedTokenCache,
    OAuthUsersService,
    AuthMetrics,
    { provide: APP_GUARD, useClass: CredentialsGuard },
  ],
  exports: [AuthMetrics, SigningKeyProvider, VerifiedTokenCache],
})
export class AuthModule {}
