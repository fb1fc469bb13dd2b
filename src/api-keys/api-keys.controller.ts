import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { AdminOnly, Auth, type Authenticated } from '../auth/auth.decorators.js';
import { ApiKeysService } from './api-keys.service.js';
import {
  ApiKeyPageDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  ListApiKeysQueryDto,
  RevokedApiKeyDto,
  RotateApiKeyDto,
  RotatedApiKeyDto,
} from './api-keys.dto.js';

@ApiTags('api-keys')
@ApiUnauthorizedResponse({ description: 'No bearer token (an API key alone is not enough).' })
@Controller('api/v1/apikey')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post('create')
  @AdminOnly('You do not have permission to create an API key')
  @ApiOperation({ summary: 'Issue an API key (admin). The full key is in `plaintext`, shown only once.' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiForbiddenResponse({ description: 'You do not have permission to create an API key' })
  @ApiUnprocessableEntityResponse({ description: 'Invalid body.' })
  create(@Auth() { auth }: Authenticated, @Body() body: CreateApiKeyDto) {
    return this.apiKeys.create(auth, body);
  }

  @Get()
  @AdminOnly('You do not have permission to get all API keys')
  @ApiOperation({ summary: 'List API keys (admin). Never shows a secret or hash.' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  @ApiForbiddenResponse({ description: 'You do not have permission to get all API keys' })
  list(@Auth() { auth }: Authenticated, @Query() query: ListApiKeysQueryDto) {
    return this.apiKeys.list(auth, query);
  }

  @Delete(':prefix')
  @AdminOnly('You do not have permission to revoke an API key')
  @ApiOperation({ summary: 'Revoke an API key (admin); effective at once on every instance. Idempotent.' })
  @ApiOkResponse({ type: RevokedApiKeyDto })
  @ApiForbiddenResponse({ description: 'You do not have permission to revoke an API key' })
  @ApiNotFoundResponse({ description: 'API key not found: {prefix}' })
  revoke(@Auth() { auth }: Authenticated, @Param('prefix') prefix: string) {
    return this.apiKeys.revoke(auth, prefix);
  }

  @Post(':prefix/rotate')
  @HttpCode(200)
  @AdminOnly('You do not have permission to revoke an API key')
  @ApiOperation({ summary: 'Rotate the secret of an API key (admin); same prefix and data, optional grace period for the old secret.' })
  @ApiOkResponse({ type: RotatedApiKeyDto })
  @ApiForbiddenResponse({ description: 'You do not have permission to revoke an API key' })
  @ApiNotFoundResponse({ description: 'API key not found: {prefix}' })
  @ApiConflictResponse({ description: 'API key is inactive. Please contact an admin.' })
  rotate(@Auth() { auth }: Authenticated, @Param('prefix') prefix: string, @Body() body: RotateApiKeyDto) {
    return this.apiKeys.rotate(auth, prefix, body ?? {});
  }
}
