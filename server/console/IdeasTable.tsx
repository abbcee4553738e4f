/**
 * Ideas ranked by demand: how many people support each, how many distinct accounts they come
 * from, and the MRR of those accounts — the number a product team prioritizes by.
 */
import type { IdeasPage } from './types.ts';
import { day, money, number } from './format.ts';

export type IdeaOrder = 'supporters' | 'mrr';

export function IdeasTable({ data, order, onOrder }: { data: IdeasPage; order: IdeaOrder; onOrder: (o: IdeaOrder) => void }) {
  const first = (data.pagination.page - 1) * data.pagination.per_page;
  return (
    <>
      <div class="toolbar" role="group" aria-label="Rank ideas by">
        <span>Rank by</span>
        <button type="button" aria-pressed={order === 'supporters'} onClick={() => onOrder('supporters')}>Supporters</button>
        <button type="button" aria-pressed={order === 'mrr'} onClick={() => onOrder('mrr')}>MRR behind it</button>
      </div>
      <table>
        <thead>
          <tr><th class="num">#</th><th>Idea</th><th class="num">Supporters</th><th class="num">Accounts</th><th class="num">MRR behind it</th><th>Suggested</th></tr>
        </thead>
        <tbody>
          {data.ideas.map((i, n) => (
            <tr key={i.id}>
              <td class="num">{first + n + 1}</td>
              <td class="what"><div class="primary">{i.title}</div>{i.body && <div class="secondary clamp">{i.body}</div>}</td>
              <td class="num">{number(i.supporters_count)}</td>
              <td class="num">{number(i.accounts_count)}</td>
              <td class="num">{money(i.mrr_cents)}</td>
              <td>{day(i.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
