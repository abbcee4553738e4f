/**
 * The command queue (docs/API.md#embedding): `window.Parley = window.Parley || []; Parley.push([...])`
 * works before and after the bundle loads. The widget claims the array when it boots and runs
 * it once the page is idle: queued commands replay in order and `push` is replaced so later
 * commands run at once. The array itself is kept, so host code holding a reference to it keeps
 * working.
 */
import type { Logger } from './log.ts';

export type Handlers = Record<string, (...args: any[]) => void>;

const INSTALLED = Symbol.for('parley.queue');

/**
 * Runs one command, never throwing: unknown names and failures are logged and ignored. Each
 * handler is looked up in `handlers` at the call, so a lazily loaded chunk may wrap one later
 * (sources.js wraps `identify` and `logout`, protocol.ts).
 */
export function createRunner(handlers: Handlers, log: Logger): (command: unknown) => void {
  return (command) => {
    try {
      if (!Array.isArray(command)) {
        if (__DEBUG__) log.warn('not a command array; ignored', command);
        return;
      }
      const [name, ...args] = command;
      const handler =
        typeof name === 'string' && Object.prototype.hasOwnProperty.call(handlers, name) ? handlers[name] : undefined;
      if (handler) handler(...args);
      else if (__DEBUG__) log.warn(`unknown command "${String(name)}" ignored`);
    } catch (e) {
      if (__DEBUG__) log.warn('command failed', e);
    }
  };
}

/** The page's command array, once a copy of the widget has claimed it. */
export type Queue = unknown[] & { [INSTALLED]?: true };

/**
 * Claims `win[name]` for this copy of the widget, keeping the array the page holds (commands
 * pushed meanwhile wait in it, as they do before the script loads); null when another copy
 * already claimed it (the script was included twice).
 */
export function claimQueue(win: Window, name: string, log: Logger): Queue | null {
  const slot = win as unknown as Record<string, unknown>;
  const existing = slot[name];
  // An element with id="Parley" makes window.Parley that element (DOM clobbering): not our queue.
  if (__DEBUG__ && existing !== undefined && !Array.isArray(existing))
    log.warn(`window.${name} is not an array; replaced`);
  const queue: Queue = Array.isArray(existing) ? existing : [];
  if (queue[INSTALLED]) return null;
  queue[INSTALLED] = true;
  slot[name] = queue;
  return queue;
}

/** Runs the commands waiting in a claimed queue, in order, and from then on every push at once. */
export function runQueue(queue: Queue, run: (command: unknown) => void): void {
  queue.push = (...commands: unknown[]) => {
    commands.forEach(run);
    return 0;
  };
  queue.splice(0, queue.length).forEach(run);
}
