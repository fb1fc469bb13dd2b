import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { PageQueryDto } from '../common/pagination.js';

export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'shop-backend' })
  @IsString()
  @Length(1, 100)
  client: string;

  @ApiProperty({ minLength: 1, maxLength: 500, example: 'Awards points for purchases' })
  @IsString()
  @Length(1, 500)
  description: string;

  @ApiPropertyOptional({
    type: [String],
    enum: ['read', 'write'],
    default: ['read', 'write'],
    minItems: 1,
    description: '`["read"]` issues a read-only key (every method but GET and HEAD is refused). At least one scope.',
  })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty({ message: 'scopes must name at least one scope (read, write)' })
  @ArrayUnique()
  @IsIn(['read', 'write'], { each: true })
  scopes?: Array<'read' | 'write'>;

  @ApiPropertyOptional({ format: 'date-time', description: 'A future time after which the key stops working.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}

export class RotateApiKeyDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 604800, default: 0, description: 'How long the old secret keeps working.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(604_800)
  gracePeriodSeconds?: number;
}

export class ListApiKeysQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  active?: boolean;
}

export class ApiKeySummaryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'qk_live_3fA9kQ2z' }) apiKey: string;
  @ApiProperty() client: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String], enum: ['read', 'write'] }) scopes: string[];
  @ApiProperty() active: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt: string | null;
  @ApiProperty() createdBy: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt: string | null;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeySummaryDto] }) items: ApiKeySummaryDto[];
  @ApiProperty({ example: { ordering: '-created_at', page: 1, page_size: 10, total_count: 1 } })
  search_options: Record<string, unknown>;
}

export class CreatedApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'qk_live_3fA9kQ2z' }) apiKey: string;
  @ApiProperty({ description: 'The full key. It is shown only once.' }) plaintext: string;
  @ApiProperty() client: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt: string | null;
  @ApiProperty() createdBy: string;
  @ApiProperty({ example: 'API Key created successfully' }) message: string;
}

export class RevokedApiKeyDto {
  @ApiProperty() apiKey: string;
  @ApiProperty({ example: false }) active: boolean;
  @ApiProperty({ example: 'API key revoked successfully.' }) message: string;
}

export class RotatedApiKeyDto {
  @ApiProperty() apiKey: string;
  @ApiProperty({ description: 'The new full key. It is shown only once.' }) plaintext: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) previousKeyValidUntil: string | null;
}
