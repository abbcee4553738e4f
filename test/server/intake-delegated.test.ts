/**
 * The intake with a `delegated` applier (core/intake-log.ts; the embedded engine's store
 * worker): identities are answered once logged and leave the queue depth when applied; feedback
 * is handed over to be applied first and answered only once applied; admin writes answer with
 * their applied result; `drained` waits for everything handed over; a checkpoint is the
 * applier's. A fake applier settles entries when the test says so.
 */
import { describe, expect, it } from 'vitest';
import type { DelegatedApplier, LogEntry } from '../../server/core/intake-log.ts';
import { MemoryLog } from '../../server/engines/embedded/memory-log.ts';
import { MemoryStore } from '../../server/engines/embedded/memory-store.ts';
import { Intake } from '../../server/intake/intake.ts';

function fakeApplier() {
  const handed: { entry: LogEntry; first: boolean; settle: (v: unknown) => void }[] = [];
  let checkpoints = 0;
  const applier: DelegatedApplier = {
    kind: 'delegated',
    appliedSeq: () => 0,
    apply: (entries, _now, first = false) =>
      entries.map((entry) => new Promise((settle) => handed.push({ entry, first, settle }))),
    onWarning: () => {},
    checkpoint: async () => {
      checkpoints++;
    },
    checkpointMs: 0,
    checkpointEvery: 0,
  };
  return { applier, handed, checkpoints: () => checkpoints };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('the intake handing entries to a delegated applier', () => {
  it('answers identities once logged, counts them until applied, and drains when they are', async () => {
    const { applier, handed } = fakeApplier();
    const intake = new Intake({ store: new MemoryStore(), log: new MemoryLog(), applier, maxQueueDepth: 1000 });
    await intake.open();
    await intake.identify('s', [{ message_id: 'm1', version: [0, 1, 'a', ''], identity: { id: 'a' } } as never]);
    expect(handed.map((h) => h.entry.op)).toEqual(['identify']);
    expect(intake.depth()).toBe(1);
    let drained = false;
    void intake.drained().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    handed[0].settle(undefined);
    await tick();
    await tick();
    expect(drained).toBe(true);
    expect(intake.depth()).toBe(0);
  });

  it('answers feedback only once its entry is applied, handed over to be applied first', async () => {
    const { applier, handed } = fakeApplier();
    const intake = new Intake({ store: new MemoryStore(), log: new MemoryLog(), applier, maxQueueDepth: 1000 });
    await intake.open();
    let answered: unknown = null;
    void intake
      .feedback('s', { message_id: 'f1', kind: 'idea', title: 't', created_at: 1 } as never)
      .then((f) => (answered = f));
    for (let i = 0; i < 5; i++) await tick();
    expect(handed.map((h) => [h.entry.op, h.first])).toEqual([['feedback', true]]);
    expect(answered).toBeNull();
    handed[0].settle({ message_id: 'f1', recorded: true });
    await tick();
    expect(answered).toEqual({ message_id: 'f1', recorded: true });
  });

  it('answers an admin write with its applied result, and leaves checkpoints to the applier', async () => {
    const { applier, handed, checkpoints } = fakeApplier();
    const intake = new Intake({ store: new MemoryStore(), log: new MemoryLog(), applier, maxQueueDepth: 1000 });
    await intake.open();
    const done = intake.transact({ op: 'segment', site: 's', name: 'n', filters: null });
    await tick();
    expect(handed.map((h) => [h.entry.op, h.first])).toEqual([['segment', false]]);
    handed[0].settle({ existed: false });
    expect(await done).toEqual({ existed: false });
    await intake.close();
    expect(checkpoints()).toBe(1);
  });
});
