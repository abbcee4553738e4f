/**
 * The site at a glance. Pending identities get their own explanation: they are people the
 * widget has identified who have not given feedback yet, so they are counted but not listed.
 */
import type { Load } from './useLoad.ts';
import type { Stats } from './types.ts';
import { number } from './format.ts';

export function StatsBar({ stats }: { stats: Load<Stats> }) {
  const s = stats.data;
  const item = (label: string, value: number | undefined, hint?: string) => (
    <div class="stat" title={hint}>
      <span class="stat-value">{s ? number(value) : '…'}</span>
      <span class="stat-label">{label}</span>
    </div>
  );
  return (
    <section class="stats" aria-label="Totals">
      {item('Users', s?.users)}
      {item(
        'Pending identities',
        s?.pending_identities,
        'Identified by the widget, not shown in Users until they give feedback',
      )}
      {item('Accounts', s?.external_accounts)}
      {item('Feedback', s?.feedback)}
      {item('Queued updates', s?.queue.depth, 'Identities acknowledged and not yet applied')}
    </section>
  );
}
