// The control API (never under /v1): request log, faults, reset, clock, bank debits, disputes — in-process and over HTTP.
import { closeDispute, openDispute } from './dispute-service.js';
import type { Fault, FaultSpec } from './faults.js';
import { settle } from './refund-service.js';
import { renderDispute } from './render.js';
import type { LoggedRequest, RequestFilter } from './request-log.js';
import type { RecordedResponse, Runtime } from './runtime.js';
import type { EmulatorState } from './state.js';

export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface EmulatorSettings {
  bank_debits: boolean;
}

export interface EmulatorControl {
  requests(filter?: RequestFilter): LoggedRequest[];
  clearRequests(): void;
  /** Every /v1 JSON answer, parsed; empty unless the emulator was started with `recordResponses: true`. */
  responses(): RecordedResponse[];
  injectFault(spec: FaultSpec): Fault;
  faults(): Fault[];
  clearFaults(): void;
  reset(): void;
  /** Moves the emulator clock forward; returns the new time in unix seconds. */
  advanceClock(seconds: number): number;
  now(): number;
  settings(): EmulatorSettings;
  setBankDebits(enabled: boolean): EmulatorSettings;
  closeDispute(disputeId: string, outcome: 'won' | 'lost'): Record<string, unknown>;
  openDispute(chargeId: string, options?: { inquiry?: boolean }): Record<string, unknown>;
  /** The live state, for in-process inspection (the sandbox, debugging). Replaced by `reset()`. */
  state(): EmulatorState;
}

export function createControl(rt: Runtime): EmulatorControl {
  const control: EmulatorControl = {
    requests: (filter) => rt.log.list(filter),
    clearRequests: () => rt.log.clear(),
    responses: () => (rt.recorded ?? []).map((r) => ({ method: r.method, path: r.path, status: r.status, body: JSON.parse(r.body) as unknown })),
    injectFault: (spec) => rt.faults.add(spec),
    faults: () => rt.faults.list(),
    clearFaults: () => rt.faults.clear(),
    reset: () => rt.reset(),
    advanceClock(seconds) {
      if (!Number.isFinite(seconds) || seconds < 0) throw new ControlError(400, 'seconds must be a number ≥ 0: the emulator clock only moves forward');
      rt.state.clock.advance(seconds * 1000);
      return rt.state.clock.nowSeconds();
    },
    now: () => rt.state.clock.nowSeconds(),
    settings: () => ({ bank_debits: rt.state.balance.bankDebits }),
    setBankDebits(enabled) {
      rt.state.balance.bankDebits = enabled;
      // Turning debits back on pays whatever was waiting for funds.
      settle(rt.state);
      return control.settings();
    },
    closeDispute(disputeId, outcome) {
      const dispute = rt.state.store.disputes.get(disputeId);
      if (!dispute) throw new ControlError(404, `No such dispute: '${disputeId}'`);
      try {
        closeDispute(rt.state, dispute, outcome);
      } catch (err) {
        throw new ControlError(400, (err as Error).message);
      }
      return renderDispute(rt.state, dispute);
    },
    openDispute(chargeId, options = {}) {
      const charge = rt.state.store.charges.get(chargeId);
      if (!charge) throw new ControlError(404, `No such charge: '${chargeId}'`);
      if (!charge.captured || charge.status !== 'succeeded') throw new ControlError(400, `Charge ${chargeId} is not a captured, succeeded charge.`);
      return renderDispute(rt.state, openDispute(rt.state, charge, options));
    },
    state: () => rt.state,
  };
  return control;
}
