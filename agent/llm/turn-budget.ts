import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The model time one citizen turn may spend, across understanding and wording together, so a
 * turn answers within OPENAI_TIMEOUT_MS however the model behaves. The runtime opens a budget
 * around each graph run; model calls made inside it (in any node) draw on what is left, and
 * once one of them has failed the rest of the turn does not wait on the model again.
 * Outside a budget (the eval calling the engine directly) each call has its own timeout.
 */
export class TurnBudget {
  private readonly deadline: number;
  /** Why the model failed earlier in this turn, if it did. */
  failed: string | null = null;

  constructor(ms: number, private readonly now: () => number = Date.now) {
    this.deadline = now() + ms;
  }

  remaining(): number {
    return Math.max(0, this.deadline - this.now());
  }
}

const storage = new AsyncLocalStorage<TurnBudget>();

export function withTurnBudget<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  return storage.run(new TurnBudget(ms), fn);
}

export function currentTurnBudget(): TurnBudget | undefined {
  return storage.getStore();
}
