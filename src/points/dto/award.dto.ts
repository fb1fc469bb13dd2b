import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsString, Matches } from 'class-validator';
import { IsJsonObjectWithin, IsOptionalNotNull, SLUG_1_100 } from '../../games/validators.js';

export const MAX_DATA_BYTES = 16 * 1024;
export const EXTERNAL_USER_ID_MESSAGE = 'externalUserId must be 1-100 letters, digits, "_" or "-"';

export class AwardPointsDto {
  @ApiProperty({ example: 'user_1', pattern: SLUG_1_100.source })
  @IsString()
  @Matches(SLUG_1_100, { message: EXTERNAL_USER_ID_MESSAGE })
  externalUserId: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Free-form payload (≤ 16 KiB serialized). `data.eventId` is the idempotency key when no header gives one.',
    example: { eventId: 'evt-42' },
  })
  @IsOptionalNotNull()
  @IsJsonObjectWithin(MAX_DATA_BYTES)
  data?: Record<string, any>;

  @ApiPropertyOptional({ description: 'true: answer 200 with what would be awarded and write nothing.', default: false })
  @IsOptionalNotNull()
  @IsBoolean()
  isSimulated?: boolean;
}

export class AwardDto {
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The award id (null for a simulated award).' })
  id: string | null;

  @ApiProperty({ example: 1 })
  points: number;

  @ApiProperty({ example: 'BasicEngagement' })
  caseName: string;

  @ApiProperty({ description: 'Whether this award created the user.' })
  isACreatedUser: boolean;

  @ApiProperty({ format: 'uuid' })
  gameId: string;

  @ApiProperty()
  externalTaskId: string;

  @ApiProperty()
  externalUserId: string;

  @ApiProperty({ format: 'date-time' })
  created_at: Date;

  @ApiPropertyOptional({ description: 'Present (true) on a simulated award.' })
  isSimulated?: boolean;
}
