/** Supplies the Authorization header for one declared API. */
export interface AuthProvider {
  /** The header value to send now (fetching or renewing a token when needed). */
  authorization(src?: string): Promise<string>;
  /**
   * Called once after a 401 with the value that was refused. Resolves true when a different
   * credential is now available, so one retry makes sense.
   */
  refresh(refused: string, src?: string): Promise<boolean>;
}
