import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { Game } from './game.entity.js';

/** A game param: overrides the strategy variable it names for every task of the game. */
@Entity({ name: 'game_params' })
@Index('game_params_game_id_key_key', ['gameId', 'key'], { unique: true })
export class GameParam {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'game_params_pkey' })
  id: string;

  @Column({ name: 'game_id', type: 'uuid' })
  gameId: string;

  @ManyToOne(() => Game, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'game_id', foreignKeyConstraintName: 'game_params_game_id_fkey' })
  game?: Game;

  @Column({ type: 'text' })
  key: string;

  @Column({ type: 'jsonb' })
  value: any;

  @Column({ name: 'api_key_used', type: 'uuid', nullable: true })
  apiKeyUsed: string | null;

  @ManyToOne(() => ApiKey)
  @JoinColumn({ name: 'api_key_used', foreignKeyConstraintName: 'game_params_api_key_used_fkey' })
  apiKey?: ApiKey;

  @Column({ name: 'oauth_user_id', type: 'text', nullable: true })
  oauthUserId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
