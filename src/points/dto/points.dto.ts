import { ApiProperty } from '@nestjs/swagger';
import { SearchOptionsDto } from '../../common/pagination.js';

export class PointsDataDto {
  @ApiProperty() points: number;
  @ApiProperty() caseName: string;
  @ApiProperty({ type: String, format: 'date-time' }) created_at: string;
}

export class UserPointsDto {
  @ApiProperty() externalUserId: string;
  @ApiProperty({ description: 'Exact sum of the user’s awards on the task.' }) points: number;
  @ApiProperty() timesAwarded: number;
}

export class UserPointsWithDetailsDto extends UserPointsDto {
  @ApiProperty({ type: [PointsDataDto], description: 'The latest 100 awards, newest first.' })
  pointsData: PointsDataDto[];
}

export class TaskPointsDto {
  @ApiProperty() externalTaskId: string;
  @ApiProperty({ type: [UserPointsDto] }) points: UserPointsDto[];
}

export class TaskPointsWithDetailsDto {
  @ApiProperty() externalTaskId: string;
  @ApiProperty({ type: [UserPointsWithDetailsDto] }) points: UserPointsWithDetailsDto[];
}

export class GamePointsDto {
  @ApiProperty() externalGameId: string;
  @ApiProperty({ type: [TaskPointsDto] }) task: TaskPointsDto[];
}

export class GamePointsDetailsDto {
  @ApiProperty() externalGameId: string;
  @ApiProperty({ type: [TaskPointsWithDetailsDto] }) task: TaskPointsWithDetailsDto[];
  @ApiProperty({ type: SearchOptionsDto, description: 'The page of users (ordered by externalUserId); total_count counts users.' })
  search_options: SearchOptionsDto;
}

export class TaskTotalDto {
  @ApiProperty() externalTaskId: string;
  @ApiProperty() points: number;
  @ApiProperty() timesAwarded: number;
}

export class SimulatedTaskDto {
  @ApiProperty() externalUserId: string;
  @ApiProperty() externalTaskId: string;
  @ApiProperty({ example: 'BasicEngagement' }) caseName: string;
  @ApiProperty() totalSimulatedPoints: number;
  @ApiProperty({ format: 'date-time', description: 'Now + 15 minutes.' }) expirationDate: string;
}

export class SimulationDto {
  @ApiProperty({ description: 'Hex HMAC-SHA256 (key SECRET_KEY) of the canonical JSON of {gameId, externalUserId, tasks}.' })
  simulationHash: string;
  @ApiProperty({ type: [SimulatedTaskDto] }) tasks: SimulatedTaskDto[];
}
