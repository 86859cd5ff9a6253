/**
 * Undo steps registered as resources are created, run in reverse order however the demo
 * ends (success, failure, Ctrl-C). Every step runs even when an earlier one fails, and none
 * may hang the exit: each is cut off after a bound.
 */
import { errorMessage } from '../errors.js';

export interface TeardownProblem {
  step: string;
  error: string;
}

const STEP_TIMEOUT_MS = 15_000;

export class Teardown {
  private readonly steps: { name: string; run: () => Promise<void> | void }[] = [];

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  /** Runs every step, last added first; returns what went wrong. Running again does nothing. */
  async run(): Promise<TeardownProblem[]> {
    const problems: TeardownProblem[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      if (!step) break;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(step.run),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`still running after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
          }),
        ]);
      } catch (err) {
        problems.push({ step: step.name, error: errorMessage(err) });
      } finally {
        clearTimeout(timer);
      }
    }
    return problems;
  }
}
