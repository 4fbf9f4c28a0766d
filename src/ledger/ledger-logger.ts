// The slice of a pino logger the ledger uses, so it can log without depending on pino.

export interface LedgerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentLogger: LedgerLogger = { info: () => undefined, warn: () => undefined };
