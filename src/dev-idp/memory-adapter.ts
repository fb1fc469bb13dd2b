/**
 * A tiny Map-based storage adapter for the dev identity provider. One store per provider instance (unlike
 * oidc-provider's module-global LRU), so two providers in one process (tests) never share state. Entries expire;
 * expired ones are dropped on read and swept when the store is written to.
 */
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Entry {
  readonly value: unknown;
  readonly expiresAt: number; // epoch ms, Infinity = never
}

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** Sweep expired entries at most this often (ms). */
const SWEEP_INTERVAL_MS = 60_000;

export class DevMemoryStore {
  private readonly entries = new Map<string, Entry>();
  private lastSweep = Date.now();

  get(key: string): unknown {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: unknown, expiresInSeconds?: number): void {
    const expiresAt = typeof expiresInSeconds === 'number' ? Date.now() + expiresInSeconds * 1000 : Infinity;
    this.entries.set(key, { value, expiresAt });
    this.sweep();
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
    }
  }
}

class DevMemoryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: DevMemoryStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const key = this.key(id);
    if (this.model === 'Session' && payload.uid) {
      this.store.set(`sessionUid:${payload.uid}`, id, expiresIn);
    }
    if (payload.userCode) {
      this.store.set(`userCode:${payload.userCode}`, id, expiresIn);
    }
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const members = (this.store.get(grantKey) as Set<string> | undefined) ?? new Set<string>();
      members.add(key);
      // Keep the index as long as the grant itself can live (Grant TTL); cheap and good enough for dev.
      this.store.set(grantKey, members);
    }
    this.store.set(key, payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.store.get(this.key(id)) as AdapterPayload | undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = this.store.get(`sessionUid:${uid}`);
    return typeof id === 'string' ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = this.store.get(`userCode:${userCode}`);
    return typeof id === 'string' ? this.find(id) : undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = this.store.get(this.key(id)) as AdapterPayload | undefined;
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const grantKey = `grant:${grantId}`;
    const members = this.store.get(grantKey) as Set<string> | undefined;
    for (const key of members ?? []) this.store.delete(key);
    this.store.delete(grantKey);
  }
}

/** A fresh adapter factory with its own store; pass it as the provider's `adapter`. */
export function createDevAdapterFactory(store = new DevMemoryStore()): AdapterFactory {
  return (model: string) => new DevMemoryAdapter(model, store);
}
