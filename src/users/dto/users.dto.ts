import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { IsOptionalNotNull, NoNul } from '../../games/validators.js';

/** `?tenant=key:<prefix>|sub:<subject>`: an admin acting in another tenant's namespace (API.md §2). */
export class TenantQueryDto {
  @ApiPropertyOptional({ description: 'Admins only: `key:<API key prefix>` or `sub:<token subject>`.', example: 'key:qk_live_3fA9kQ2z' })
  @IsOptionalNotNull()
  @IsString()
  @NoNul()
  @Length(5, 260)
  tenant?: string;
}

export class UserTaskTotalDto {
  @ApiProperty() externalTaskId: string;
  @ApiProperty() points: number;
  @ApiProperty() timesAwarded: number;
}

export class UserGameTotalDto {
  @ApiProperty() externalGameId: string;
  @ApiProperty() points: number;
  @ApiProperty() timesAwarded: number;
  @ApiProperty({ type: [UserTaskTotalDto] }) task: UserTaskTotalDto[];
}

export class GameTotalDto {
  @ApiProperty() externalGameId: string;
  @ApiProperty() points: number;
  @ApiProperty() timesAwarded: number;
}

export class UserPointsQueryResultDto {
  @ApiProperty() externalUserId: string;
  @ApiProperty({ description: 'Exact total over every game.' }) points: number;
  @ApiProperty() timesAwarded: number;
  @ApiProperty({ type: [GameTotalDto] }) games: GameTotalDto[];
  @ApiProperty() userExists: boolean;
}
