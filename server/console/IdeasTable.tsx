/**
 * Ideas ranked by demand: how many people support each, how many distinct accounts they come
 * from, and the MRR of those accounts — the number a product team prioritizes by.
 */
import type { IdeasPage } from './types.ts';
import { day, money, number } from './format.ts';

export function IdeasTable({ data }: { data: IdeasPage }) {
  const first = (data.pagination.page - 1) * data.pagination.per_page;
  return (
    <table>
      <thead>
        <tr>
          <th class="num">#</th>
          <th>Idea</th>
          <th class="num">Supporters</th>
          <th class="num">Accounts</th>
          <th class="num">MRR behind it</th>
          <th>Suggested</th>
        </tr>
      </thead>
      <tbody>
        {data.ideas.map((i, n) => (
          <tr key={i.id}>
            <td class="num">{first + n + 1}</td>
            <td class="what">
              <div class="primary">{i.title}</div>
              {i.body && <div class="secondary clamp">{i.body}</div>}
            </td>
            <td class="num">{number(i.supporters_count)}</td>
            <td class="num">{number(i.accounts_count)}</td>
            <td class="num">{money(i.mrr_cents)}</td>
            <td>{day(i.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
