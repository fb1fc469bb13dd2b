import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { Auth, type Authenticated, EitherCredential, Public } from './auth.decorators.js';

class MeApiKeyDto {
  @ApiProperty() prefix: string;
  @ApiProperty() client: string;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt: string | null;
}

class MeDto {
  @ApiProperty({ enum: ['apiKey', 'oauth', 'both'] }) kind: 'apiKey' | 'oauth' | 'both';
  @ApiPropertyOptional({ type: MeApiKeyDto }) apiKey?: MeApiKeyDto;
  @ApiPropertyOptional({ description: 'The token subject.' }) oauthUserId?: string;
  @ApiProperty() isAdmin: boolean;
  @ApiProperty({ type: [String] }) roles: string[];
}

class ProtectedResourceDto {
  @ApiProperty() resource: string;
  @ApiProperty({ type: [String] }) authorization_servers: string[];
  @ApiProperty({ type: [String] }) bearer_methods_supported: string[];
  @ApiProperty() resource_documentation: string;
}

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get('api/v1/auth/me')
  @EitherCredential()
  @ApiOperation({ summary: 'Who the credentials of this request are.' })
  @ApiOkResponse({ type: MeDto })
  @ApiUnauthorizedResponse({ description: 'No credential sent.' })
  me(@Auth() { auth }: Authenticated): MeDto {
    const { apiKey, oauthUserId } = auth;
    // One object literal (JSON leaves out the undefined fields): spreading conditional parts cost more per request.
    return {
      kind: apiKey && oauthUserId ? 'both' : apiKey ? 'apiKey' : 'oauth',
      apiKey: apiKey && {
        prefix: apiKey.prefix,
        client: apiKey.client,
        scopes: apiKey.scopes,
        expiresAt: apiKey.expiresAt ? apiKey.expiresAt.toISOString() : null,
      },
      oauthUserId,
      isAdmin: auth.isAdmin,
      roles: auth.roles,
    };
  }

  @Get('.well-known/oauth-protected-resource')
  @Public()
  @ApiOperation({ summary: 'OAuth 2.0 protected resource metadata (RFC 9728).' })
  @ApiOkResponse({ type: ProtectedResourceDto })
  protectedResource(): ProtectedResourceDto {
    return {
      resource: this.config.publicUrl,
      authorization_servers: [this.config.oidcIssuer!],
      bearer_methods_supported: ['header'],
      resource_documentation: `${this.config.publicUrl}/docs`,
    };
  }
}
