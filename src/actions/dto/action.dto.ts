import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { IsJsonObjectWithin, IsOptionalNotNull, NoNul, SLUG_1_100 } from '../../games/validators.js';
import { EXTERNAL_USER_ID_MESSAGE, MAX_DATA_BYTES } from '../../points/dto/award.dto.js';

export class UserActionDto {
  @ApiProperty({ example: 'opened_app', minLength: 1, maxLength: 100 })
  @IsString()
  @NoNul()
  @Length(1, 100)
  typeAction: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Free-form payload (≤ 16 KiB serialized).' })
  @IsOptionalNotNull()
  @IsJsonObjectWithin(MAX_DATA_BYTES)
  data?: Record<string, any>;

  @ApiPropertyOptional({ maxLength: 1000 })
  @IsOptionalNotNull()
  @IsString()
  @NoNul()
  @Length(0, 1000)
  description?: string;
}

export class TaskActionDto extends UserActionDto {
  @ApiProperty({ example: 'user_1', pattern: SLUG_1_100.source })
  @IsString()
  @Matches(SLUG_1_100, { message: EXTERNAL_USER_ID_MESSAGE })
  externalUserId: string;
}

export class ActionCreatedDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() typeAction: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, any>;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty() externalUserId: string;
  @ApiProperty({ format: 'date-time' }) created_at: Date;
  @ApiProperty({ example: 'Action added successfully' }) message: string;
}
