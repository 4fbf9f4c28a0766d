// Runs reconciliation beside the request path: a look every tenth of the interval, a run whenever the shared job is due.
import type { ReconcileResult } from '../refunds/reconciliation.js';

export interface ReconcileJobOptions {
  intervalMs: number;
  /** One attempt: runs the job if it is due and free (reconcileOnce). */
  run: () => Promise<ReconcileResult>;
  onResult: (result: ReconcileResult) => void;
  onError: (error: unknown) => void;
}

/**
 * The job's next run is kept in the ledger, shared by every replica: whichever looks first after it is due runs it.
 * Looking ten times per interval (at most every 5 s) keeps a change's wait close to one interval; a look that finds
 * the job not due is one small UPDATE.
 */
export const lookEveryMs = (intervalMs: number): number => Math.min(5_000, Math.max(50, Math.floor(intervalMs / 10)));

export class ReconcileJob {
  readonly #options: ReconcileJobOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(options: ReconcileJobOptions) {
    this.#options = options;
  }

  start(): void {
    if (!this.#stopped || this.#options.intervalMs === 0) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops looking and waits for a run in progress to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#look().finally(() => {
        this.#running = undefined;
        this.#schedule(lookEveryMs(this.#options.intervalMs));
      });
    }, ms);
    this.#timer.unref();
  }

  async #look(): Promise<void> {
    try {
      this.#options.onResult(await this.#options.run());
    } catch (error) {
      this.#options.onError(error);
    }
  }
}
