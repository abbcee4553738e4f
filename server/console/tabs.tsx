/**
 * The console's four lists, as data: the route each reads, the table that shows it, and what
 * to say when it is empty. Adding a list is one more entry here.
 */
import type { ComponentChildren } from 'preact';
import type { Get } from './api.ts';
import { AccountsTable } from './AccountsTable.tsx';
import { FeedbackTable } from './FeedbackTable.tsx';
import { IdeasTable, type IdeaOrder } from './IdeasTable.tsx';
import { UsersTable } from './UsersTable.tsx';
import type { AccountsPage, FeedbackPage, IdeasPage, Pagination, UsersPage } from './types.ts';

/** Rows per page: enough to scan, few enough that a page loads at once. */
export const PER_PAGE = 25;

export type TabId = 'feedback' | 'ideas' | 'users' | 'accounts';

export interface View { order: IdeaOrder; onOrder: (o: IdeaOrder) => void }

interface Tab<T> {
  label: string;
  /** The plural noun for counts: "12 users". */
  noun: string;
  path: (page: number, view: View) => string;
  /** Fetches what the table needs for `path`; most tabs need just that route. */
  load: (get: Get, path: string) => Promise<T>;
  rows: (data: T) => unknown[];
  pagination: (data: T) => Pagination;
  table: (data: T, view: View) => ComponentChildren;
  empty: { title: string; body: ComponentChildren };
}

const demo = <a href="/demo/" target="_blank" rel="noopener">demo page</a>;

const plain = <T,>(get: Get, path: string) => get<T>(path);

/** Feedback, with the titles of the ideas that "support" rows point at (the top 100 by support). */
type FeedbackData = FeedbackPage & { ideaTitles: Map<string, string> };

const feedback: Tab<FeedbackData> = {
  label: 'Feedback', noun: 'feedback',
  path: (page) => `/feedback?page=${page}&per_page=${PER_PAGE}`,
  async load(get, path) {
    const [page, ideas] = await Promise.all([get<FeedbackPage>(path), get<IdeasPage>(`/ideas?per_page=100`)]);
    return { ...page, ideaTitles: new Map(ideas.ideas.map((i) => [i.id, i.title])) };
  },
  rows: (d) => d.feedback, pagination: (d) => d.pagination,
  table: (d) => <FeedbackTable data={d} ideaTitles={d.ideaTitles} />,
  empty: { title: 'No feedback yet', body: <>Open the {demo}, click <strong>Feedback</strong> and leave an idea. It appears here with who sent it, their account and its MRR.</> },
};

const ideas: Tab<IdeasPage> = {
  label: 'Ideas', noun: 'ideas',
  path: (page, v) => `/ideas?page=${page}&per_page=${PER_PAGE}&sort=${v.order}`,
  load: plain,
  rows: (d) => d.ideas, pagination: (d) => d.pagination,
  table: (d, v) => <IdeasTable data={d} order={v.order} onOrder={v.onOrder} />,
  empty: { title: 'No ideas yet', body: <>Ideas left through the widget are ranked here by supporters and by the revenue of the accounts behind them. Try the {demo}.</> },
};

const users: Tab<UsersPage> = {
  label: 'Users', noun: 'users',
  path: (page) => `/users?page=${page}&per_page=${PER_PAGE}&includes=external_users,external_accounts`,
  load: plain,
  rows: (d) => d.users, pagination: (d) => d.pagination,
  table: (d) => <UsersTable data={d} />,
  empty: { title: 'No users yet', body: <>People the widget identifies stay pending until they give feedback; imported users appear at once. Leave feedback on the {demo} to see one here.</> },
};

const accounts: Tab<AccountsPage> = {
  label: 'Accounts', noun: 'accounts',
  path: (page) => `/external_accounts?page=${page}&per_page=${PER_PAGE}`,
  load: plain,
  rows: (d) => d.external_accounts, pagination: (d) => d.pagination,
  table: (d) => <AccountsTable data={d} />,
  empty: { title: 'No accounts yet', body: <>Accounts arrive with identified users (their plan, MRR and LTV) or through the accounts import.</> },
};

export const TABS: Record<TabId, Tab<any>> = { feedback, ideas, users, accounts };
export const TAB_IDS = Object.keys(TABS) as TabId[];
