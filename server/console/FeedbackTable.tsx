/**
 * Feedback, newest first: what was said, by whom, for which account and the account's MRR
 * when it was said (not today's), and on which page of the host app.
 */
import type { Feedback } from './types.ts';
import { money, pagePath, when } from './format.ts';
import { userHref } from './routes.ts';

const KIND: Record<Feedback['kind'], string> = { idea: 'Idea', support: 'Support', comment: 'Comment', nps: 'NPS' };

function What({ f, ideaTitles }: { f: Feedback; ideaTitles: Map<string, string> }) {
  if (f.kind === 'nps')
    return (
      <>
        <div class="primary">Score {f.score ?? '—'} / 10</div>
        {f.body && <div class="secondary clamp">{f.body}</div>}
      </>
    );
  if (f.kind === 'support') {
    const title = f.idea_id ? ideaTitles.get(f.idea_id) : undefined;
    return <div class="primary">{title ? `Supports “${title}”` : 'Supports an existing idea'}</div>;
  }
  return (
    <>
      {f.title && <div class="primary">{f.title}</div>}
      {f.body && <div class="secondary clamp">{f.body}</div>}
    </>
  );
}

export function FeedbackTable({
  data,
  ideaTitles,
}: {
  data: { feedback: Feedback[] };
  ideaTitles: Map<string, string>;
}) {
  return (
    <table>
      <thead>
        <tr>
          <th>When</th>
          <th>Kind</th>
          <th>What</th>
          <th>Who</th>
          <th>Account</th>
          <th class="num">MRR then</th>
          <th>Page</th>
        </tr>
      </thead>
      <tbody>
        {data.feedback.map((f) => {
          const who = f.user ?? f.external_user;
          return (
            <tr key={f.id}>
              <td class="nowrap">{when(f.created_at)}</td>
              <td>
                <span class={`badge ${f.kind}`}>{KIND[f.kind] ?? f.kind}</span>
                {f.source && <div class="secondary mono">{f.source}</div>}
              </td>
              <td class="what">
                <What f={f} ideaTitles={ideaTitles} />
              </td>
              <td>
                {who ? (
                  <>
                    {f.user ? (
                      <a class="primary person-link" href={userHref(f.user.id)}>
                        {who.name ?? who.email}
                      </a>
                    ) : (
                      <div class="primary">{who.name ?? who.email}</div>
                    )}
                    {who.name && <div class="secondary">{who.email}</div>}
                  </>
                ) : (
                  <span class="secondary">Anonymous</span>
                )}
              </td>
              <td>
                {f.external_account ? (
                  <>
                    <div class="primary">{f.external_account.name ?? f.external_account.external_id}</div>
                    {f.external_account.plan && <div class="secondary">{f.external_account.plan}</div>}
                  </>
                ) : (
                  <span class="secondary">—</span>
                )}
              </td>
              <td class="num">{money(f.mrr_cents_at)}</td>
              <td class="mono" title={f.page_url ?? undefined}>
                {pagePath(f.page_url)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
