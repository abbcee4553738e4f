/**
 * "Record feedback" on a person's page: what a customer said on a call or in a ticket, recorded
 * for them through `POST /api/v2/admin/feedback` (docs/API.md#post-apiv2adminfeedback). The
 * collector judges the item; its error envelope names the field, and the message is shown
 * next to that field. One message id per attempt, kept until it succeeds, so a double click or a
 * retry after a network failure records it once.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, explain, type Get, type Post } from './api.ts';
import type { Feedback, IdeasPage } from './types.ts';

/** Who the feedback is for: a visible user by id, or a person not visible yet. */
export type Author = { user_id: string } | { email: string } | { external_id: string };

type Kind = Feedback['kind'];
const KINDS: { value: Kind; label: string }[] = [
  { value: 'idea', label: 'Idea' },
  { value: 'support', label: 'Vote on an idea' },
  { value: 'comment', label: 'Comment' },
  { value: 'nps', label: 'NPS score' },
];

const newMessageId = () =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? `console-${crypto.randomUUID()}` : undefined;

interface Props {
  author: Author;
  get: Get;
  post: Post;
  onRecorded: (f: Feedback) => void;
}

export function RecordFeedback({ author, get, post, onRecorded }: Props) {
  const [kind, setKind] = useState<Kind>('comment');
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [ideaId, setIdeaId] = useState('');
  const [score, setScore] = useState('');
  const [source, setSource] = useState('console');
  const [ideas, setIdeas] = useState<{ id: string; title: string }[] | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState('');
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const [messageId, setMessageId] = useState(newMessageId);

  // The ideas a vote can go to, loaded when that kind is first chosen.
  useEffect(() => {
    if (kind !== 'support' || ideas) return;
    get<IdeasPage>('/ideas?per_page=100').then(
      (p) => setIdeas(p.ideas.map((i) => ({ id: i.id, title: i.title }))),
      (e) => setProblem(explain(e)),
    );
  }, [kind]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setErrors({});
    setProblem('');
    setDone('');
    const item: Record<string, unknown> = {
      ...author,
      kind,
      source: source.trim() || undefined,
      message_id: messageId,
    };
    if (kind === 'idea') item.title = title;
    if (kind === 'support') item.idea_id = ideaId || undefined;
    if (kind === 'nps') item.score = score === '' ? undefined : Number(score);
    if (body.trim() && kind !== 'support') item.body = body;
    try {
      const res = await post<{ feedback: Feedback }>('/feedback', item);
      setTitle('');
      setBody('');
      setScore('');
      setMessageId(newMessageId());
      setDone(`Recorded ${KINDS.find((k) => k.value === kind)?.label.toLowerCase()}.`);
      onRecorded(res.feedback);
    } catch (err) {
      const byField: Record<string, string> = {};
      const rest: string[] = [];
      if (err instanceof ApiError)
        for (const d of err.details)
          if (['title', 'body', 'idea_id', 'score', 'source', 'kind'].includes(d.field)) byField[d.field] ??= d.message;
          else rest.push(d.field === '(body)' ? d.message : `${d.field}: ${d.message}`);
      setErrors(byField);
      setProblem(rest.length ? rest.join('; ') : Object.keys(byField).length ? '' : explain(err));
    } finally {
      setBusy(false);
    }
  };

  /** Attributes tying a control to its error message. */
  // The label is named explicitly: a wrapping label's name would include a select's options.
  const LABEL: Record<string, string> = {
    kind: 'Kind',
    title: 'Title',
    idea_id: 'Idea',
    score: 'Score',
    source: 'Source',
    body: 'Text',
  };
  const invalid = (field: string) => ({
    'aria-label': LABEL[field],
    ...(errors[field] ? { 'aria-invalid': true, 'aria-describedby': `rf-${field}-error` } : {}),
  });
  const error = (field: string) =>
    errors[field] && (
      <span class="field-error" id={`rf-${field}-error`}>
        {errors[field]}
      </span>
    );

  return (
    <form class="record-feedback" onSubmit={(e) => void submit(e)} aria-labelledby="rf-heading" noValidate>
      <h3 id="rf-heading">Record feedback</h3>
      <div class="form-grid">
        <label>
          Kind
          <select
            value={kind}
            onChange={(e) => setKind((e.target as HTMLSelectElement).value as Kind)}
            {...invalid('kind')}
          >
            {KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
          {error('kind')}
        </label>
        {kind === 'idea' && (
          <label>
            Title
            <input
              value={title}
              onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
              {...invalid('title')}
            />
            {error('title')}
          </label>
        )}
        {kind === 'support' && (
          <label>
            Idea
            <select
              value={ideaId}
              onChange={(e) => setIdeaId((e.target as HTMLSelectElement).value)}
              {...invalid('idea_id')}
            >
              <option value="">{ideas ? (ideas.length ? 'Choose an idea…' : 'No ideas yet') : 'Loading ideas…'}</option>
              {ideas?.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.title}
                </option>
              ))}
            </select>
            {error('idea_id')}
          </label>
        )}
        {kind === 'nps' && (
          <label>
            Score
            <select
              value={score}
              onChange={(e) => setScore((e.target as HTMLSelectElement).value)}
              {...invalid('score')}
            >
              <option value="">0-10…</option>
              {Array.from({ length: 11 }, (_, n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
            {error('score')}
          </label>
        )}
        <label>
          Source
          <input
            value={source}
            onInput={(e) => setSource((e.target as HTMLInputElement).value)}
            {...invalid('source')}
          />
          {error('source')}
        </label>
      </div>
      {kind !== 'support' && (
        <label class="wide">
          Text
          <textarea
            rows={3}
            value={body}
            onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
            {...invalid('body')}
          />
          {error('body')}
        </label>
      )}
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Recording…' : 'Record feedback'}
        </button>
        {done && (
          <span role="status" class="ok">
            {done}
          </span>
        )}
        {problem && (
          <span role="alert" class="field-error">
            {problem}
          </span>
        )}
      </div>
    </form>
  );
}
