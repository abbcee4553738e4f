/** V8 heap in use after full collections, for tests that hold a store to a memory cost. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
