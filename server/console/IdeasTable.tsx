/**
 * Ideas ranked by demand: how many people support each, how many distinct accounts they come
 * from, and the MRR of those accounts — the number a product team prioritizes by, drawn as a
 * bar against the page's largest so the revenue behind each idea reads at a glance.
 */
import type { IdeasPage } from './types.ts';
import { day, money, number } from './format.ts';

/** The MRR bar's full width in pixels (an SVG attribute: no inline style under the console's CSP). */
const BAR = 96;

export function IdeasTable({ data }: { data: IdeasPage }) {
  const first = ((data.pagination.page ?? 1) - 1) * data.pagination.per_page;
  const most = Math.max(0, ...data.ideas.map((i) => i.mrr_cents ?? 0));
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
            <td class="num mrr">
              {money(i.mrr_cents)}
              <svg class="mrr-bar" width={BAR} height="8" aria-hidden="true">
                <rect class="mrr-track" width={BAR} height="8" rx="2" />
                {most > 0 && (
                  <rect width={Math.max(1, Math.round(((i.mrr_cents ?? 0) / most) * BAR))} height="8" rx="2" />
                )}
              </svg>
            </td>
            <td>{day(i.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
