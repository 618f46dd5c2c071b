/**
 * A small circuit breaker for the model endpoint. Closed: calls go through. After
 * `failureThreshold` consecutive failures it opens: calls are refused at once (the local engine
 * and the templates answer) until `cooldownMs` has passed. Then it is half-open: exactly one
 * trial call goes through; its success closes the breaker, its failure opens it again.
 *
 * Every `tryAcquire()` that returns true must be followed by exactly one `success()` or
 * `failure()`, so a half-open trial is never left dangling.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker (default 3). */
  failureThreshold?: number;
  /** How long it stays open before one trial call is let through (default 30 s). */
  cooldownMs?: number;
  now?: () => number;
  /** Called on every state change (for logging). */
  onChange?: (from: BreakerState, to: BreakerState) => void;
}

export class CircuitBreaker {
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly onChange: ((from: BreakerState, to: BreakerState) => void) | undefined;
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.threshold = Math.max(1, opts.failureThreshold ?? 3);
    this.cooldownMs = Math.max(0, opts.cooldownMs ?? 30_000);
    this.now = opts.now ?? Date.now;
    this.onChange = opts.onChange;
  }

  /** The state as a caller would find it now (an expired open breaker reads as half-open). */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.cooldownMs) return 'half_open';
    return this.current;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** May a call go out now? In the half-open state only one trial at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open') return false;
    if (this.trialInFlight) return false;
    this.move('half_open');
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.trialInFlight = false;
    this.failures = 0;
    this.move('closed');
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures += 1;
    if (this.current === 'half_open' || this.failures >= this.threshold) {
      this.openedAt = this.now();
      this.move('open');
    }
  }

  /** Back to closed with no failures counted (an operator action, or between tests). */
  reset(): void {
    this.trialInFlight = false;
    this.failures = 0;
    this.move('closed');
  }

  private move(to: BreakerState): void {
    if (this.current === to) return;
    const from = this.current;
    this.current = to;
    this.onChange?.(from, to);
  }
}
