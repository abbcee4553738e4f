/**
 * Visible users with the integrator's records of them (external users: type, app version,
 * location) and the account each belongs to. A user with several external users gets one row
 * per external user, the person's cell spanning them.
 */
import type { Account, ExternalUser, UsersPage } from './types.ts';
import { day, money, place } from './format.ts';
import { userHref } from './routes.ts';

/** The account an external user links to; the link is the account's external_id, or its key when it has none. */
function accountOf(eu: ExternalUser, accounts: Account[]): Account | undefined {
  const link = eu.links.external_account;
  return link === null
    ? undefined
    : (accounts.find((a) => a.external_id === link) ?? accounts.find((a) => a.id === link));
}

export function UsersTable({ data }: { data: UsersPage }) {
  const externals = data.external_users ?? [];
  const accounts = data.external_accounts ?? [];
  return (
    <table>
      <thead>
        <tr>
          <th>User</th>
          <th>External id</th>
          <th>Type</th>
          <th>Account</th>
          <th class="num">MRR</th>
          <th>App version</th>
          <th>Location</th>
          <th>Signed up</th>
        </tr>
      </thead>
      <tbody>
        {data.users.map((u) => {
          const own = externals.filter((e) => e.links.user === u.id);
          const rows = own.length ? own : [null];
          return rows.map((eu, n) => {
            const account = eu ? accountOf(eu, accounts) : undefined;
            return (
              <tr key={`${u.id}:${eu?.external_id ?? ''}`} data-user={u.email}>
                {n === 0 && (
                  <td rowSpan={rows.length}>
                    <a class="primary person-link" href={userHref(u.id)}>
                      {u.name ?? u.email}
                    </a>
                    {u.name && <div class="secondary">{u.email}</div>}
                  </td>
                )}
                <td class="mono">{eu?.external_id ?? '—'}</td>
                <td>{eu?.type ?? '—'}</td>
                <td>
                  {account ? (
                    <>
                      <div class="primary">{account.name ?? account.external_id ?? 'Unnamed account'}</div>
                      {account.plan && <div class="secondary">{account.plan}</div>}
                    </>
                  ) : (
                    <span class="secondary">No account</span>
                  )}
                </td>
                <td class="num">{money(account?.mrr_cents)}</td>
                <td class="mono">{eu?.app_version ?? '—'}</td>
                <td>{place(eu?.location)}</td>
                <td>{day(eu?.external_created_at ?? u.created_at)}</td>
              </tr>
            );
          });
        })}
      </tbody>
    </table>
  );
}
