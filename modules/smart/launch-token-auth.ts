// The launch's access token as the fetch steps' credential. With a refresh token (offline_access
// or online_access granted), a 401 or an expired token gets one refresh through the token
// endpoint; the new refresh token, when the server rotates it, replaces the old one.
import type { AuthProvider } from '../../runtime/workflows/auth/auth-provider.ts';

export interface TokenSet {
  accessToken: string;
  /** Epoch ms; absent when the server sent no expires_in. */
  expiresAt?: number;
  refreshToken?: string;
}

export class LaunchTokenAuth implements AuthProvider {
  refreshes = 0;
  private inflight?: Promise<boolean>;

  constructor(
    private tokens: TokenSet,
    /** Exchanges a refresh token; undefined when refreshing is not possible. */
    private readonly refresher?: (refreshToken: string) => Promise<TokenSet>,
    private readonly onRefreshed?: (tokens: TokenSet) => void,
    private readonly now: () => number = Date.now,
  ) {}

  async authorization(): Promise<string> {
    if (this.tokens.expiresAt !== undefined && this.tokens.expiresAt <= this.now() && this.tokens.refreshToken) {
      await this.refresh(`Bearer ${this.tokens.accessToken}`);
    }
    return `Bearer ${this.tokens.accessToken}`;
  }

  async refresh(refused: string): Promise<boolean> {
    if (`Bearer ${this.tokens.accessToken}` !== refused) return true;
    const refreshToken = this.tokens.refreshToken;
    if (!refreshToken || !this.refresher) return false;
    this.inflight ??= (async () => {
      try {
        const next = await this.refresher!(refreshToken);
        this.refreshes++;
        this.tokens = { ...next, refreshToken: next.refreshToken ?? refreshToken };
        this.onRefreshed?.(this.tokens);
        return true;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}
