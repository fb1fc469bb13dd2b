import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A token subject seen for the first time; created once, on its first valid token. */
@Entity({ name: 'oauth_users' })
@Index('oauth_users_subject_key', ['subject'], { unique: true })
export class OAuthUser {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  subject: string;

  @Column({ name: 'preferred_username', type: 'text', nullable: true })
  preferredUsername: string | null;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  @Column({ type: 'text' })
  issuer: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
