import { ApiKey } from '../api-keys/api-key.entity.js';
import { AuditLog } from '../audit/audit-log.entity.js';
import { OAuthUser } from '../auth/oauth-user.entity.js';
import { UserAction } from '../actions/user-action.entity.js';
import { GameParam } from '../games/game-param.entity.js';
import { Game } from '../games/game.entity.js';
import { TaskAwardStats } from '../points/task-award-stats.entity.js';
import { TaskUserAwardStats } from '../points/task-user-award-stats.entity.js';
import { UserPoints } from '../points/user-points.entity.js';
import { TaskParam } from '../tasks/task-param.entity.js';
import { Task } from '../tasks/task.entity.js';
import { EndUser } from '../users/end-user.entity.js';
import { ExportAuditLog } from '../exports/export-audit-log.entity.js';
import { WalletTransaction } from '../wallet/wallet-transaction.entity.js';
import { Wallet } from '../wallet/wallet.entity.js';

/**
 * Every TypeORM entity of the app, listed explicitly (a glob would load a second, metadata-less copy of the
 * classes under the test runner). A module that adds an entity adds it here and writes a migration.
 */
export const entities: Function[] = [
  ApiKey,
  AuditLog,
  OAuthUser,
  // Gamification core (issue 4)
  Game,
  GameParam,
  Task,
  TaskParam,
  EndUser,
  Wallet,
  WalletTransaction,
  UserPoints,
  TaskAwardStats,
  TaskUserAwardStats,
  UserAction,
  // Operations (issue 6)
  ExportAuditLog,
];
