import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Auth, type Authenticated, EitherCredential } from '../auth/auth.decorators.js';
import { TenantQueryDto } from '../users/dto/users.dto.js';
import { ConversionDto, ConvertPointsDto, ConvertPreviewDto, ConvertPreviewQueryDto, WalletDto } from './dto/wallet.dto.js';
import { WalletService } from './wallet.service.js';

@ApiTags('wallet')
@Controller('api/v1/users/:externalUserId')
@EitherCredential()
@ApiUnauthorizedResponse({ description: 'Invalid authentication credentials' })
@ApiForbiddenResponse({ description: 'You do not have permission to access this user (`tenant` is for admins)' })
@ApiNotFoundResponse({ description: 'Not found externalUserId : {x}' })
export class WalletController {
  constructor(private readonly wallets: WalletService) {}

  @Get('wallet')
  @ApiOperation({ summary: 'The user’s balances and latest 100 wallet transactions.' })
  @ApiOkResponse({ type: WalletDto })
  get(@Auth() { auth }: Authenticated, @Param('externalUserId') externalUserId: string, @Query() query: TenantQueryDto) {
    return this.wallets.get(auth, externalUserId, query.tenant);
  }

  @Get('convert/preview')
  @ApiOperation({ summary: 'What converting `points` to coins would give.' })
  @ApiOkResponse({ type: ConvertPreviewDto })
  @ApiUnprocessableEntityResponse({ description: 'points must be an integer ≥ 1.' })
  preview(@Auth() { auth }: Authenticated, @Param('externalUserId') externalUserId: string, @Query() query: ConvertPreviewQueryDto) {
    return this.wallets.preview(auth, externalUserId, query.points, query.tenant);
  }

  @Post('convert')
  @ApiOperation({ summary: 'Convert points to coins (points / conversionRate, exact to 6 decimals).' })
  @ApiCreatedResponse({ type: ConversionDto })
  @ApiUnprocessableEntityResponse({ description: 'Not enough points / validation failed.' })
  convert(@Auth() { auth }: Authenticated, @Param('externalUserId') externalUserId: string, @Body() dto: ConvertPointsDto, @Query() query: TenantQueryDto) {
    return this.wallets.convert(auth, externalUserId, dto.points, query.tenant);
  }
}
