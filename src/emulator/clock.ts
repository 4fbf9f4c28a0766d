// The emulator's clock: wall time plus an offset the control API can push forward, so expiry and settlement are testable.
export interface EmulatorClock {
  /** Milliseconds since the epoch, as the emulator sees them. */
  nowMs(): number;
  /** Unix seconds, the unit of every `created` field. */
  nowSeconds(): number;
  /** Moves the clock forward; never backwards, so FIFO queues keyed on time stay ordered. */
  advance(ms: number): void;
  /** Back to wall time (used by the control API's reset). */
  reset(): void;
}

export function createClock(wallNow: () => number = Date.now): EmulatorClock {
  let offsetMs = 0;
  // Remember the highest time handed out: a reset must not let time run backwards for queued transitions.
  let floorMs = 0;
  const nowMs = (): number => {
    const t = Math.max(wallNow() + offsetMs, floorMs);
    floorMs = t;
    return t;
  };
  return {
    nowMs,
    nowSeconds: () => Math.floor(nowMs() / 1000),
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the emulator clock only moves forward');
      offsetMs += ms;
    },
    reset() {
      offsetMs = 0;
      floorMs = 0;
    },
  };
}
