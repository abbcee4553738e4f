/**
 * The command queue (docs/API.md#embedding): `window.Parley = window.Parley || []; Parley.push([...])`
 * works before and after the bundle loads. On install, queued commands replay in order and
 * `push` is replaced so later commands run at once. The array itself is kept, so host code
 * holding a reference to it keeps working.
 */
import { DEBUG, type Logger } from './log.ts';

export type Handlers = Record<string, (...args: any[]) => void>;

const INSTALLED = Symbol.for('parley.queue');

/** Runs one command, never throwing: unknown names and failures are logged and ignored. */
export function createRunner(handlers: Handlers, log: Logger): (command: unknown) => void {
  return (command) => {
    try {
      if (!Array.isArray(command)) {
        if (DEBUG) log.warn('not a command array; ignored', command);
        return;
      }
      const [name, ...args] = command;
      const handler =
        typeof name === 'string' && Object.prototype.hasOwnProperty.call(handlers, name) ? handlers[name] : undefined;
      if (handler) handler(...args);
      else if (DEBUG) log.warn(`unknown command "${String(name)}" ignored`);
    } catch (e) {
      if (DEBUG) log.warn('command failed', e);
    }
  };
}

/** True when a copy of the widget already owns `win[name]` (the script was included twice). */
export function owned(win: Window, name: string): boolean {
  return !!(win as unknown as Record<string, { [INSTALLED]?: true } | undefined>)[name]?.[INSTALLED];
}

/** Takes over `win[name]`; false when another copy of the widget already owns it. */
export function installQueue(win: Window, name: string, run: (command: unknown) => void, log: Logger): boolean {
  const slot = win as unknown as Record<string, unknown>;
  const existing = slot[name];
  // An element with id="Parley" makes window.Parley that element (DOM clobbering): not our queue.
  if (DEBUG && existing !== undefined && !Array.isArray(existing)) log.warn(`window.${name} is not an array; replaced`);
  const queue = (Array.isArray(existing) ? existing : []) as unknown[] & { [INSTALLED]?: true };
  if (queue[INSTALLED]) return false;
  const pending = queue.splice(0, queue.length);
  queue[INSTALLED] = true;
  queue.push = (...commands: unknown[]) => {
    commands.forEach(run);
    return 0;
  };
  slot[name] = queue;
  pending.forEach(run);
  return true;
}
