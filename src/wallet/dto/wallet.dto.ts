import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { TenantQueryDto } from '../../users/dto/users.dto.js';
import type { WalletTransactionType } from '../wallet-transaction.entity.js';

export class ConvertPointsDto {
  @ApiProperty({ minimum: 1, example: 250 })
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  points: number;
}

export class ConvertPreviewQueryDto extends TenantQueryDto {
  @ApiProperty({ minimum: 1, example: 250 })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  points: number;
}

export class WalletBalanceDto {
  @ApiProperty() pointsBalance: number;
  @ApiProperty({ description: 'Exact to 6 decimals.' }) coinsBalance: number;
  @ApiProperty({ description: 'Points per coin.' }) conversionRate: number;
}

export class WalletTransactionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['AssignPoints', 'ConvertPoints'] }) transactionType: WalletTransactionType;
  @ApiProperty({ description: 'Signed: awards add, conversions subtract.' }) points: number;
  @ApiProperty() coins: number;
  @ApiProperty({ nullable: true, type: Number }) appliedConversionRate: number | null;
  @ApiProperty({ format: 'date-time' }) created_at: Date;
}

export class WalletDto {
  @ApiProperty() externalUserId: string;
  @ApiProperty({ type: WalletBalanceDto }) wallet: WalletBalanceDto;
  @ApiProperty({ type: [WalletTransactionDto], description: 'Newest first, at most 100.' }) walletTransactions: WalletTransactionDto[];
}

export class ConvertPreviewDto {
  @ApiProperty() points: number;
  @ApiProperty() conversionRate: number;
  @ApiProperty({ description: 'points / conversionRate, rounded to 6 decimals.' }) convertedAmount: number;
  @ApiProperty({ example: 'coins' }) convertedCurrency: 'coins';
  @ApiProperty() haveEnoughPoints: boolean;
}

export class ConversionDto {
  @ApiProperty({ format: 'uuid' }) transactionId: string;
  @ApiProperty() points: number;
  @ApiProperty() conversionRate: number;
  @ApiProperty() convertedAmount: number;
  @ApiProperty({ example: 'coins' }) convertedCurrency: 'coins';
  @ApiProperty({ type: WalletBalanceDto }) wallet: WalletBalanceDto;
}
