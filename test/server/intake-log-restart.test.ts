/**
 * The intake log across a clean restart: a checkpoint rotates to an empty segment before the
 * process stops; the next process must append to that file exactly once, so a later checkpoint
 * never unlinks the segment it is writing to (which lost acknowledged entries).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FileLog } from '../../server/engines/embedded/file-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'parley-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('replays an entry acknowledged after a restart on a log whose last segment was empty', async () => {
  let log = await FileLog.open(dir, 0);
  await log.append({ op: 'x', n: 1 });
  await log.rotate();
  log.dropThrough(1);
  await log.close();

  log = await FileLog.open(dir, 1);
  expect(log.replay()).toEqual([]);
  await log.append({ op: 'x', n: 2 });
  await log.rotate();
  log.dropThrough(1); // a checkpoint that has not absorbed entry 2
  await log.close();

  const reopened = await FileLog.open(dir, 1);
  expect(reopened.replay()).toEqual([{ op: 'x', n: 2, seq: 2 }]);
  await reopened.close();
});
