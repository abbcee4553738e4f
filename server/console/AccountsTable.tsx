/**
 * Accounts with the revenue behind them and how many of their people spoke up. "Since" is
 * when the account signed up in the host app, when the integrator told us; else when we first saw it.
 */
import type { Account, AccountsPage } from './types.ts';
import { day, money, number } from './format.ts';

export function AccountsTable({ data, onPeople }: { data: AccountsPage; onPeople?: (a: Account) => void }) {
  return (
    <table>
      <thead>
        <tr>
          <th>Account</th>
          <th>Plan</th>
          <th class="num">MRR</th>
          <th class="num">LTV</th>
          <th class="num">Users</th>
          <th class="num">Feedback</th>
          <th>Since</th>
        </tr>
      </thead>
      <tbody>
        {data.external_accounts.map((a) => (
          <tr key={a.id} data-account={a.external_id ?? a.id}>
            <td>
              <div class="primary">{a.name ?? 'Unnamed account'}</div>
              <div class="secondary mono">{a.external_id ?? 'private to one user'}</div>
            </td>
            <td>{a.plan ?? '—'}</td>
            <td class="num">{money(a.mrr_cents)}</td>
            <td class="num">{money(a.ltv_cents)}</td>
            <td class="num">
              {onPeople && a.users_count ? (
                <button
                  type="button"
                  class="link"
                  aria-label={`People of ${a.name ?? a.external_id ?? a.id}`}
                  onClick={() => onPeople(a)}
                >
                  {number(a.users_count)}
                </button>
              ) : (
                number(a.users_count)
              )}
            </td>
            <td class="num">{number(a.feedback_count)}</td>
            <td>{day(a.external_created_at ?? a.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
