/**
 * The console's four lists, as data: the route each reads (with its filters), the controls
 * above it, the table that shows it, and what to say when it is empty. Adding a list is one
 * more entry here.
 */
import type { ComponentChildren } from 'preact';
import type { Get } from './api.ts';
import { AccountsTable } from './AccountsTable.tsx';
import { FeedbackTable } from './FeedbackTable.tsx';
import { IdeasTable } from './IdeasTable.tsx';
import { NpsPanel } from './NpsPanel.tsx';
import { money, number } from './format.ts';
import { Choice, SearchBox } from './Toolbar.tsx';
import { TAB_IDS, type TabId } from './routes.ts';
import { UsersTable } from './UsersTable.tsx';
import type { AccountsPage, FeedbackPage, IdeasPage, Pagination, UsersPage } from './types.ts';

/** Rows per page: enough to scan, few enough that a page loads at once. */
export const PER_PAGE = 25;

/** What the lists are narrowed and ordered by; the App holds them, the toolbars change them. */
export interface Filters {
  ideaOrder: 'supporters' | 'accounts' | 'mrr';
  /** Name or email search in Users. */
  userQuery: string;
  accountSort: '-mrr_cents' | '-ltv_cents' | 'name' | '-created_at';
  /** Users of one account, chosen from the Accounts list. */
  userAccount: { id: string; name: string } | null;
}

export const DEFAULT_FILTERS: Filters = {
  ideaOrder: 'supporters',
  userQuery: '',
  accountSort: '-mrr_cents',
  userAccount: null,
};

export interface View {
  filters: Filters;
  onFilter: (patch: Partial<Filters>) => void;
  /** Shows another list (an account's people, from Accounts). */
  openTab: (id: TabId) => void;
}

interface Tab<T> {
  label: string;
  /** The plural noun for counts: "12 users". */
  noun: string;
  path: (page: number, f: Filters) => string;
  /** Fetches what the table needs for `path`; most tabs need just that route. */
  load: (get: Get, path: string) => Promise<T>;
  rows: (data: T) => unknown[];
  pagination: (data: T) => Pagination;
  toolbar?: (view: View) => ComponentChildren;
  table: (data: T, view: View) => ComponentChildren;
  /** What shows beside the list for the same segment (the NPS panel on Ideas). */
  aside?: (p: { get: Get; query: string; version: number; onError: (e: unknown) => void }) => ComponentChildren;
  empty: (f: Filters) => { title: string; body: ComponentChildren };
}

const demo = (
  <a href="/demo/" target="_blank" rel="noopener">
    demo page
  </a>
);
const paged = (route: string, page: number) => `${route}?page=${page}&per_page=${PER_PAGE}`;
const plain = <T,>(get: Get, path: string) => get<T>(path);

/** Feedback, with the titles of the ideas that "support" rows point at (the top 100 by support). */
type FeedbackData = FeedbackPage & { ideaTitles: Map<string, string> };

const feedback: Tab<FeedbackData> = {
  label: 'Feedback',
  noun: 'feedback',
  path: (page) => paged('/feedback', page),
  async load(get, path) {
    const [page, ideas] = await Promise.all([get<FeedbackPage>(path), get<IdeasPage>('/ideas?per_page=100')]);
    return { ...page, ideaTitles: new Map(ideas.ideas.map((i) => [i.id, i.title])) };
  },
  rows: (d) => d.feedback,
  pagination: (d) => d.pagination,
  table: (d) => (
    <>
      {d.segment && (
        <p class="segment-totals" role="status">
          This segment: {number(d.segment.feedback_count)} feedback from {number(d.segment.accounts_count)} accounts,{' '}
          <strong>{money(d.segment.mrr_cents)}</strong> MRR behind it
        </p>
      )}
      <FeedbackTable data={d} ideaTitles={d.ideaTitles} />
    </>
  ),
  empty: () => ({
    title: 'No feedback yet',
    body: (
      <>
        Open the {demo}, click <strong>Feedback</strong> and leave an idea. It appears here with who sent it, their
        account and its MRR.
      </>
    ),
  }),
};

const ideas: Tab<IdeasPage> = {
  label: 'Ideas',
  noun: 'ideas',
  path: (page, f) => `${paged('/ideas', page)}&sort=${f.ideaOrder}`,
  load: plain,
  rows: (d) => d.ideas,
  pagination: (d) => d.pagination,
  toolbar: ({ filters, onFilter }) => (
    <Choice
      label="Rank by"
      value={filters.ideaOrder}
      onChange={(ideaOrder) => onFilter({ ideaOrder })}
      options={[
        { value: 'supporters', label: 'Supporters' },
        { value: 'accounts', label: 'Accounts' },
        { value: 'mrr', label: 'MRR behind it' },
      ]}
    />
  ),
  table: (d) => <IdeasTable data={d} />,
  aside: (p) => <NpsPanel {...p} />,
  empty: () => ({
    title: 'No ideas yet',
    body: (
      <>
        Ideas left through the widget are ranked here by supporters and by the revenue of the accounts behind them. Try
        the {demo}.
      </>
    ),
  }),
};

const users: Tab<UsersPage> = {
  label: 'Users',
  noun: 'users',
  path: (page, f) =>
    `${paged('/users', page)}&includes=external_users,external_accounts${f.userQuery ? `&q=${encodeURIComponent(f.userQuery)}` : ''}${f.userAccount ? `&account=${encodeURIComponent(f.userAccount.id)}` : ''}`,
  load: plain,
  rows: (d) => d.users,
  pagination: (d) => d.pagination,
  toolbar: ({ filters, onFilter }) => (
    <>
      <SearchBox label="Name or email" value={filters.userQuery} onSearch={(userQuery) => onFilter({ userQuery })} />
      {filters.userAccount && (
        <span class="chip">
          Account: <strong>{filters.userAccount.name}</strong>
          <button type="button" onClick={() => onFilter({ userAccount: null })}>
            Show every account
          </button>
        </span>
      )}
    </>
  ),
  table: (d) => <UsersTable data={d} />,
  empty: (f) =>
    f.userQuery || f.userAccount
      ? {
          title: 'No user matches',
          body: f.userQuery ? (
            <>
              Nobody visible{f.userAccount ? ` on ${f.userAccount.name}` : ''} has “{f.userQuery}” in their name or
              email.
            </>
          ) : (
            <>Nobody visible belongs to {f.userAccount?.name}.</>
          ),
        }
      : {
          title: 'No users yet',
          body: (
            <>
              People the widget identifies stay pending until they give feedback; imported users appear at once. Leave
              feedback on the {demo} to see one here.
            </>
          ),
        },
};

const accounts: Tab<AccountsPage> = {
  label: 'Accounts',
  noun: 'accounts',
  path: (page, f) => `${paged('/external_accounts', page)}&sort=${f.accountSort}`,
  load: plain,
  rows: (d) => d.external_accounts,
  pagination: (d) => d.pagination,
  toolbar: ({ filters, onFilter }) => (
    <Choice
      label="Sort by"
      value={filters.accountSort}
      onChange={(accountSort) => onFilter({ accountSort })}
      options={[
        { value: '-mrr_cents', label: 'MRR' },
        { value: '-ltv_cents', label: 'LTV' },
        { value: 'name', label: 'Name' },
        { value: '-created_at', label: 'Newest' },
      ]}
    />
  ),
  table: (d, view) => (
    <AccountsTable
      data={d}
      onPeople={(a) => {
        view.onFilter({ userAccount: { id: a.id, name: a.name ?? a.external_id ?? a.id }, userQuery: '' });
        view.openTab('users');
      }}
    />
  ),
  empty: () => ({
    title: 'No accounts yet',
    body: <>Accounts arrive with identified users (their plan, MRR and LTV) or through the accounts import.</>,
  }),
};

export const TABS: Record<TabId, Tab<any>> = { feedback, ideas, users, accounts };
export { TAB_IDS, type TabId };

/** Which tab's paging a filter change resets. */
export const FILTER_TAB: Record<keyof Filters, TabId> = {
  ideaOrder: 'ideas',
  userQuery: 'users',
  accountSort: 'accounts',
  userAccount: 'users',
};
