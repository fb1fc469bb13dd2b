import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';

export const GROUPINGS = ['day', 'week', 'month'] as const;
export type Grouping = (typeof GROUPINGS)[number];

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export class DashboardQueryDto {
  @ApiPropertyOptional({ format: 'date', example: '2026-11-01', description: 'First day (UTC), inclusive. Default: 29 days before `end_date`.' })
  @IsOptional()
  @Matches(ISO_DATE, { message: 'start_date must be an ISO date (YYYY-MM-DD)' })
  @IsISO8601({ strict: true }, { message: 'start_date must be a valid calendar date' })
  start_date?: string;

  @ApiPropertyOptional({ format: 'date', example: '2026-11-30', description: 'Last day (UTC), inclusive. Default: today.' })
  @IsOptional()
  @Matches(ISO_DATE, { message: 'end_date must be an ISO date (YYYY-MM-DD)' })
  @IsISO8601({ strict: true }, { message: 'end_date must be a valid calendar date' })
  end_date?: string;

  @ApiPropertyOptional({
    enum: GROUPINGS,
    default: 'day',
    description: 'Bucket size. Labels: day `YYYY-MM-DD`, week ISO `YYYY-Www` (weeks start on Monday), month `YYYY-MM`.',
  })
  @IsOptional()
  @IsIn(GROUPINGS, { message: 'group_by must be one of day, week, month' })
  group_by?: Grouping;
}

export class BucketDto {
  @ApiProperty({ example: '2026-11-25' }) label: string;
  @ApiProperty({ example: 3 }) count: number;
}

export class DashboardSummaryDto {
  @ApiProperty({ type: [BucketDto], description: 'End users created (first award or action) per bucket.' })
  new_users: BucketDto[];
  @ApiProperty({ type: [BucketDto], description: 'Games created per bucket (games deleted since are still counted).' })
  games_opened: BucketDto[];
  @ApiProperty({ type: [BucketDto], description: 'Sum of the points awarded per bucket.' })
  points_earned: BucketDto[];
  @ApiProperty({ type: [BucketDto], description: 'User actions recorded per bucket.' })
  actions_performed: BucketDto[];
}

export class LogTotalsDto {
  @ApiProperty() info: number;
  @ApiProperty() warning: number;
  @ApiProperty() error: number;
}

export class DashboardLogsDto {
  @ApiProperty({ type: [BucketDto], description: 'Audit entries of level INFO per bucket.' }) info: BucketDto[];
  @ApiProperty({ type: [BucketDto], description: 'Audit entries of level WARNING per bucket.' }) warning: BucketDto[];
  @ApiProperty({ type: [BucketDto], description: 'Audit entries of level ERROR per bucket.' }) error: BucketDto[];
  @ApiProperty({ type: LogTotalsDto, description: 'Entries per level over the whole range.' }) totals: LogTotalsDto;
}
