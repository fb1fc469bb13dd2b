import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { PageQueryDto } from '../common/pagination.js';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'api-keys' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  module?: string;

  @ApiPropertyOptional({ enum: ['INFO', 'WARNING', 'ERROR'] })
  @IsOptional()
  @IsIn(['INFO', 'WARNING', 'ERROR'])
  level?: 'INFO' | 'WARNING' | 'ERROR';

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this time.' })
  @IsOptional()
  @IsISO8601()
  dateFrom?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or before this time (a date alone includes the whole day).' })
  @IsOptional()
  @IsISO8601()
  dateTo?: string;
}

export class AuditEntryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['INFO', 'WARNING', 'ERROR'] }) level: string;
  @ApiProperty() module: string;
  @ApiProperty() message: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) details: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) apiKeyUsed: string | null;
  @ApiProperty({ type: String, nullable: true }) oauthUserId: string | null;
  @ApiProperty({ type: String, nullable: true }) correlationId: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] }) items: AuditEntryDto[];
  @ApiProperty({ example: { ordering: '-created_at', page: 1, page_size: 10, total_count: 1 } })
  search_options: Record<string, unknown>;
}
