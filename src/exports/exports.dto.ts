import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import { PageQueryDto, SearchOptionsDto } from '../common/pagination.js';
import { DATASET_NAMES } from './datasets.js';
import { EXPORT_FORMATS, type ExportFormat } from './formats.js';

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn([...EXPORT_FORMATS], { message: 'format must be one of csv, json, xlsx' })
  format?: ExportFormat;

  @ApiPropertyOptional({ format: 'date-time', example: '2026-11-01', description: 'Rows created at or after this time.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  dateFrom?: string;

  @ApiPropertyOptional({ format: 'date-time', example: '2026-11-30', description: 'Rows created at or before this time (a date alone includes the whole day).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  dateTo?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100_000, default: 10_000, description: 'At most this many rows (the oldest first).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  limit?: number;
}

export class ExportHistoryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DATASET_NAMES })
  @IsOptional()
  @IsIn(DATASET_NAMES)
  dataset?: string;

  @ApiPropertyOptional({ enum: ['started', 'completed', 'failed'] })
  @IsOptional()
  @IsIn(['started', 'completed', 'failed'])
  status?: 'started' | 'completed' | 'failed';
}

export class ExportHistoryEntryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: DATASET_NAMES }) dataset: string;
  @ApiProperty({ enum: EXPORT_FORMATS }) format: string;
  @ApiProperty({ example: { dateFrom: '2026-11-01', dateTo: null, limit: 10000 } }) filters: Record<string, unknown>;
  @ApiProperty({ description: 'Rows sent (so far, for a run still streaming or one that failed).' }) rowCount: number;
  @ApiProperty({ enum: ['started', 'completed', 'failed'] }) status: string;
  @ApiProperty({ type: String, nullable: true, enum: ['client disconnected', 'export failed'] }) error: string | null;
  @ApiProperty({ description: "The admin's token subject." }) requestedBy: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) completed_at: string | null;
}

export class ExportHistoryPageDto {
  @ApiProperty({ type: [ExportHistoryEntryDto] }) items: ExportHistoryEntryDto[];
  @ApiProperty({ type: SearchOptionsDto }) search_options: SearchOptionsDto;
}
