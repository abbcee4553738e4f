/**
 * One person's page (`#user/<id>`, docs/API.md#get-apiv2adminusersid): who they are, the
 * integrator's records of them (external users) and their accounts, where every stored field
 * came from, their feedback (newest first, paged), and a form to record more. A person who is
 * not visible yet — identified, but pending until they say something — is opened by email or
 * external id (`#person/email/...`); their page offers only the form, and the first feedback
 * recorded makes them a user and moves the page to theirs.
 */
import { useState } from 'preact/hooks';
import { ApiError, type Get, type Post } from './api.ts';
import { FeedbackTable } from './FeedbackTable.tsx';
import { day, money, number, place } from './format.ts';
import { Pager } from './Pager.tsx';
import { ProvenanceTable } from './Provenance.tsx';
import { RecordFeedback, type Author } from './RecordFeedback.tsx';
import { routeHash, userHref } from './routes.ts';
import { Empty, Failed, Loading } from './States.tsx';
import type { Feedback, IdeasPage, Person, UsersPage } from './types.ts';
import { useLoad } from './useLoad.ts';

const PER_PAGE = 25;

interface Props {
  get: Get;
  post: Post;
  version: number;
  onError: (e: unknown) => void;
  /** Feedback was recorded: the stats and lists changed. */
  onChanged: () => void;
}

/** Moves to a person's own page without leaving the lookup page in the history. */
const replaceWithUser = (id: string) => location.replace(userHref(id));

type Loaded = Person & { ideaTitles: Map<string, string> };

export function PersonPage({ id, get, post, version, onError, onChanged }: Props & { id: string }) {
  const [page, setPage] = useState(1);
  const [recorded, setRecorded] = useState(0);
  const path = `/users/${encodeURIComponent(id)}?page=${page}&per_page=${PER_PAGE}`;
  const [load, retry] = useLoad<Loaded>(
    path,
    async () => {
      const [person, ideas] = await Promise.all([get<Person>(path), get<IdeasPage>('/ideas?per_page=100')]);
      return { ...person, ideaTitles: new Map(ideas.ideas.map((i) => [i.id, i.title])) };
    },
    version + recorded,
    onError,
  );

  if (load.state === 'error') {
    if (load.error instanceof ApiError && load.error.status === 404)
      return (
        <section class="person" aria-label="Person">
          <Empty title="No such user">
            Nobody visible has the id <code>{id}</code>. They may have been erased, or moved to another user.{' '}
            <a href={routeHash({ page: 'tab', tab: 'users' })}>All users</a>
          </Empty>
        </section>
      );
    return (
      <section class="person" aria-label="Person">
        <Failed error={load.error} retry={retry} />
      </section>
    );
  }
  if (!load.data)
    return (
      <section class="person" aria-label="Person" aria-busy="true">
        <Loading what="this person" />
      </section>
    );

  const { user, external_users: eus, external_accounts: accounts, feedback, pagination } = load.data;
  return (
    <section class="person" aria-label={`Person: ${user.name ?? user.email}`} aria-busy={load.state === 'loading'}>
      <header class="person-head">
        <div>
          <h2>{user.name ?? user.email}</h2>
          <p class="secondary">
            {user.name && <>{user.email} · </>}
            <span class="mono">{user.id}</span> · user since {day(user.created_at)}
          </p>
        </div>
      </header>

      <h3>External users</h3>
      {eus.length === 0 ? (
        <p class="secondary">None: this person gave feedback with only an email.</p>
      ) : (
        <div class="table-wrap">
          <table class="external-users">
            <thead>
              <tr>
                <th>External id</th>
                <th>Email</th>
                <th>Type</th>
                <th>Account</th>
                <th>App version</th>
                <th>Location</th>
                <th>Tags</th>
              </tr>
            </thead>
            <tbody>
              {eus.map((eu) => (
                <tr key={eu.external_id}>
                  <td class="mono">{eu.external_id}</td>
                  <td>{eu.email ?? '—'}</td>
                  <td>{eu.type ?? '—'}</td>
                  <td class="mono">{eu.links.external_account ?? '—'}</td>
                  <td class="mono">{eu.app_version ?? '—'}</td>
                  <td>{place(eu.location)}</td>
                  <td>{eu.tags?.join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3>Accounts</h3>
      {accounts.length === 0 ? (
        <p class="secondary">No account: feedback from this person carries no MRR.</p>
      ) : (
        <div class="table-wrap">
          <table class="person-accounts">
            <thead>
              <tr>
                <th>Account</th>
                <th>Plan</th>
                <th class="num">MRR</th>
                <th class="num">LTV</th>
                <th class="num">Users</th>
                <th class="num">Feedback</th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((a) => (
                <tr key={a.id}>
                  <td>
                    <div class="primary">{a.name ?? 'Unnamed account'}</div>
                    <div class="secondary mono">{a.external_id ?? 'private to one user'}</div>
                  </td>
                  <td>{a.plan ?? '—'}</td>
                  <td class="num">{money(a.mrr_cents)}</td>
                  <td class="num">{money(a.ltv_cents)}</td>
                  <td class="num">{number(a.users_count)}</td>
                  <td class="num">{number(a.feedback_count)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3>Where each field came from</h3>
      {eus.length + accounts.length === 0 ? (
        <p class="secondary">Nothing stored beyond the email.</p>
      ) : (
        <div class="table-wrap">
          {eus.map((eu) => (
            <ProvenanceTable
              key={`eu:${eu.external_id}`}
              caption={`External user ${eu.external_id}`}
              record={eu as unknown as Record<string, unknown>}
              provenance={eu.provenance}
            />
          ))}
          {accounts.map((a) => (
            <ProvenanceTable
              key={`a:${a.id}`}
              caption={`Account ${a.name ?? a.external_id ?? a.id}`}
              record={a as unknown as Record<string, unknown>}
              provenance={a.provenance}
            />
          ))}
        </div>
      )}

      <h3>Feedback</h3>
      {feedback.length === 0 ? (
        <Empty title="No feedback yet">
          Record what this person said below; it appears here with the MRR at that moment.
        </Empty>
      ) : (
        <>
          <div class="table-wrap person-feedback">
            <FeedbackTable data={load.data} ideaTitles={load.data.ideaTitles} />
          </div>
          <Pager pagination={pagination} noun="feedback" onPage={setPage} />
        </>
      )}

      <RecordFeedback
        author={{ user_id: user.id }}
        get={get}
        post={post}
        onRecorded={() => {
          setPage(1);
          setRecorded((n) => n + 1);
          onChanged();
        }}
      />
    </section>
  );
}

/**
 * A person named by email or external id. A visible user with that email opens their own page;
 * anyone else may be pending (identified, not yet listed) or unknown, which the collector tells
 * when feedback is recorded for them.
 */
export function PendingPerson({
  by,
  value,
  get,
  post,
  version,
  onError,
  onChanged,
}: Props & { by: 'email' | 'external_id'; value: string }) {
  const [load, retry] = useLoad<null>(
    `${by}:${value}`,
    async () => {
      if (by !== 'email') return null;
      const found = await get<UsersPage>(`/users?q=${encodeURIComponent(value)}&per_page=100`);
      const user = found.users.find((u) => u.email === value);
      if (user) replaceWithUser(user.id);
      return null;
    },
    version,
    onError,
  );
  if (load.state === 'error')
    return (
      <section class="person" aria-label="Person">
        <Failed error={load.error} retry={retry} />
      </section>
    );
  if (load.state === 'loading')
    return (
      <section class="person" aria-label="Person" aria-busy="true">
        <Loading what="this person" />
      </section>
    );
  const author: Author = by === 'email' ? { email: value } : { external_id: value };
  return (
    <section class="person" aria-label={`Person: ${value}`}>
      <header class="person-head">
        <div>
          <h2>{value}</h2>
          <p class="secondary">
            {by === 'email' ? 'No visible user has this email.' : 'Opened by external id.'} Someone the widget or{' '}
            <code>bulk_identify</code> identified stays <strong>pending</strong> — counted, not listed — until they give
            feedback. Recording feedback for them makes them a user, with their account and its MRR.
          </p>
        </div>
      </header>
      <RecordFeedback
        author={author}
        get={get}
        post={post}
        onRecorded={(f: Feedback) => {
          onChanged();
          if (f.user) replaceWithUser(f.user.id);
        }}
      />
    </section>
  );
}
