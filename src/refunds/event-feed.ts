// The pull feed of events: what a caller may see of the outbox, oldest first, so it can catch up without a receiver.
import type { GatewayEvent } from './events.js';
import type { Ledger } from './ledger.js';
import type { Page } from './types.js';

export interface EventFeedDeps {
  ledger: Ledger;
  /** Whether a caller is told of every refund (`events.all`), not only its own. */
  seesAll: (callerId: string) => boolean;
}

export class EventFeed {
  readonly #deps: EventFeedDeps;

  constructor(deps: EventFeedDeps) {
    this.#deps = deps;
  }

  list(callerId: string, query: { limit: number; startingAfter?: string }): Promise<Page<GatewayEvent>> {
    return this.#deps.ledger.listEvents({ caller: callerId, all: this.#deps.seesAll(callerId), ...query });
  }
}
