import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import type { ApiKeyIdentity } from './auth-context.js';

export interface ApiKeyResult {
  kind: 'apiKey';
  identity: ApiKeyIdentity;
}

/** `X-API-Key`: format and checksum, then the cached row, the hash, revocation and expiry. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(HeaderAPIKeyStrategy, 'api-key') {
  constructor(private readonly apiKeys: ApiKeysService) {
    super({ header: 'x-api-key', prefix: '' }, false); // passReqToCallback must stay false with Nest's mixin
  }

  async validate(presented: string): Promise<ApiKeyResult> {
    return { kind: 'apiKey', identity: await this.apiKeys.verify(presented) };
  }
}
