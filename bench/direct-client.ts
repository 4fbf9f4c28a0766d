// The parent's handle on the direct-SDK baseline process: start it once, send it runs over IPC, read back what it saw.
import type { DirectMode, DirectResult, DirectRun } from './direct-caller.js';
import { startProgram, type Service } from './processes.js';

export class DirectCaller {
  readonly service: Service;

  private constructor(service: Service) {
    this.service = service;
  }

  static async start(options: { root: string; logDir: string; emulatorUrl: string }): Promise<DirectCaller> {
    const service = startProgram({
      name: 'direct-sdk',
      args: ['--import', 'tsx', 'bench/direct-caller.ts'],
      cwd: options.root,
      port: 0,
      logDir: options.logDir,
      env: { EMULATOR_URL: options.emulatorUrl },
      ipc: true,
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the direct SDK process did not start; see ${service.logFile}`)), 60_000);
      service.child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      void service.exited.then(() => reject(new Error(`the direct SDK process exited; see ${service.logFile}`)));
    });
    return new DirectCaller(service);
  }

  run(mode: DirectMode, ids: string[], callers: number, seconds: number): Promise<DirectResult> {
    const command: DirectRun = { type: 'run', mode, ids, callers, seconds };
    return new Promise((resolve, reject) => {
      this.service.child.once('message', (message: DirectResult | { type: 'error'; message: string }) => {
        if (message.type === 'result') resolve(message);
        else reject(new Error(`direct SDK run failed: ${message.message}`));
      });
      this.service.child.send(command);
    });
  }
}
