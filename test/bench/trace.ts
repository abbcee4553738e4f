/**
 * Main-thread time from a Chromium performance trace (the JSON `browser.stopTracing()` returns),
 * attributed to a script by the URL of the events that ran it: compile, evaluation and every
 * call into it (timers, idle callbacks, event handlers, promise reactions).
 */

export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tts?: number;
  tdur?: number;
  tid: number;
  pid: number;
  args?: { name?: string; data?: { url?: string } };
}

export interface Trace {
  traceEvents: TraceEvent[];
}

/** The events that run a script's code, each attributed to its URL. */
const SCRIPT_EVENTS = ['EvaluateScript', 'FunctionCall', 'v8.compile', 'v8.compileModule', 'v8.evaluateModule'];

/** Complete events of the renderer's main thread that carry thread time. */
function mainThread(trace: Trace): TraceEvent[] {
  const events = trace.traceEvents;
  const main = new Set(
    events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`),
  );
  return events.filter(
    (e) => e.ph === 'X' && e.tdur !== undefined && e.tts !== undefined && main.has(`${e.pid}:${e.tid}`),
  );
}

/**
 * When the page first went idle: the wall-clock start (µs, trace clock) of its first idle
 * callback, or Infinity when none ran.
 */
export function firstIdle(trace: Trace): number {
  return Math.min(
    ...mainThread(trace)
      .filter((e) => e.name === 'FireIdleCallback')
      .map((e) => e.ts),
    Infinity,
  );
}

/**
 * Main-thread milliseconds of the events attributed to URLs that `match` (and, when given,
 * starting within `[from, to)` on the trace's wall clock), overlaps merged. Thread time
 * (tts/tdur), not wall time: the CPU the thread spent, which other load on the machine does not
 * inflate.
 */
export function mainThreadMs(trace: Trace, match: (url: string) => boolean, from = -Infinity, to = Infinity): number {
  const spans = mainThread(trace)
    .filter((e) => SCRIPT_EVENTS.includes(e.name) && match(e.args?.data?.url ?? '') && e.ts >= from && e.ts < to)
    .map((e) => [e.tts!, e.tts! + e.tdur!] as const)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [s, e] of spans) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total / 1000;
}

/** Prints the long events (over 0.5 ms) attributed to URLs that `match`: BENCH_DEBUG=1. */
export function dumpEvents(trace: Trace, match: (url: string) => boolean) {
  for (const e of trace.traceEvents) {
    if (e.ph === 'X' && e.tdur && e.tdur > 500 && match(e.args?.data?.url ?? ''))
      console.error(
        e.name,
        e.args?.data?.url,
        (e.tdur / 1000).toFixed(2),
        'ms',
        JSON.stringify(e.args?.data).slice(0, 200),
      );
  }
}
