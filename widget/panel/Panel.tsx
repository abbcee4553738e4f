/** @jsxImportSource preact */
/**
 * The feedback dialog: suggest an idea (or support a matching one), comment, or rate us (NPS).
 * The only stateful component; it takes props from widget.js and reports through them.
 * User-supplied text is rendered only as text nodes, never as HTML.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { FeedbackDraft, IdeaMatch, IdeasReply, PanelMode, PanelProps, SendResult } from '../protocol.ts';
import { CommentFields, EmailField, IdeaFields, NpsFields, type Values } from './fields.tsx';
import { focusables, onDialogKey } from './focus.ts';

const TABS: [PanelMode, string][] = [
  ['idea', 'Idea'],
  ['comment', 'Comment'],
  ['nps', 'Rate us'],
];

type Status = 'idle' | 'sending' | SendResult | 'invalid';

/** What the status line says; `sent` and `queued` end the conversation. */
const MESSAGES: Record<Status, string> = {
  idle: '',
  sending: 'Sending…',
  sent: 'Thank you! Your feedback was sent.',
  queued: 'You seem to be offline. Your feedback is saved and will be sent once you are back online.',
  failed: 'Sorry, your feedback could not be sent.',
  invalid: 'Please fill in the required fields.',
};

/** Waits this long after typing stops before looking for similar ideas. @default 300 */
export const SEARCH_DELAY_MS = 300;

const EMPTY: Values = { title: '', body: '', email: '', score: null };

/** The draft for the current form, or null when a required field is missing. Empty optional fields are left out. */
export function draftFor(mode: PanelMode, v: Values, needsEmail: boolean): FeedbackDraft | null {
  if (needsEmail && !/^[^\s@]+@[^\s@]+$/.test(v.email.trim())) return null;
  const email = needsEmail ? v.email.trim() : undefined;
  const body = v.body || undefined;
  if (mode === 'idea') return v.title.trim() ? { kind: 'idea', title: v.title.trim(), body, email } : null;
  if (mode === 'comment') return v.body.trim() ? { kind: 'comment', body, email } : null;
  return v.score === null ? null : { kind: 'nps', score: v.score, body, email };
}

/** The ideas of a search answer (an `IdeasReply`, unchecked) that are safe to render: anything else is ignored. */
export function wellFormed(body: unknown): IdeaMatch[] {
  const ideas: unknown = (body as Partial<IdeasReply> | null | undefined)?.ideas;
  return Array.isArray(ideas)
    ? ideas.filter(
        (i: Partial<IdeaMatch> | null) =>
          i && typeof i.id === 'string' && typeof i.title === 'string' && typeof i.supporters_count === 'number',
      )
    : [];
}

export function Panel(props: PanelProps) {
  const [mode, setMode] = useState(props.mode);
  const [values, setValues] = useState(EMPTY);
  const [status, setStatus] = useState<Status>('idle');
  const [matches, setMatches] = useState<IdeaMatch[]>([]);
  const dialog = useRef<HTMLDivElement>(null);
  const set = (patch: Partial<Values>) => setValues((v) => ({ ...v, ...patch }));
  const done = status === 'sent' || status === 'queued';

  // Move focus into the dialog when it opens and whenever its content is replaced.
  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    const target = el.querySelector<HTMLElement>('input,textarea,.done') ?? focusables(el)[0];
    target?.focus();
  }, [mode, done]);

  useEffect(() => {
    const q = values.title.trim();
    if (mode !== 'idea' || q.length < 3) return setMatches([]);
    let live = true;
    const timer = setTimeout(() => {
      props.searchIdeas(q).then(
        (body) => live && setMatches(wellFormed(body).slice(0, 3)),
        () => {},
      );
    }, SEARCH_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [mode, values.title]);

  const send = async (draft: FeedbackDraft | null) => {
    if (!draft) return setStatus('invalid');
    setStatus('sending');
    setStatus(await props.submit(draft).catch((): SendResult => 'failed'));
  };

  const fields = { values, set };
  return (
    <div
      class="dialog"
      role="dialog"
      aria-modal="true"
      aria-labelledby="parley-title"
      ref={dialog}
      onKeyDown={(e) => onDialogKey(e, e.currentTarget, props.close)}
    >
      <div class="head">
        <h2 id="parley-title">Feedback</h2>
        <button type="button" class="close" aria-label="Close" onClick={props.close}>
          ×
        </button>
      </div>
      {done ? (
        <button type="button" class="primary done" onClick={props.close}>
          Close
        </button>
      ) : (
        <>
          <div class="tabs" role="group" aria-label="Kind of feedback">
            {TABS.map(([m, label]) => (
              <button
                type="button"
                key={m}
                aria-pressed={mode === m}
                onClick={() => {
                  setMode(m);
                  setStatus('idle');
                }}
              >
                {label}
              </button>
            ))}
          </div>
          <form
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              void send(draftFor(mode, values, props.needsEmail));
            }}
          >
            {mode === 'idea' && (
              <IdeaFields
                {...fields}
                matches={matches}
                busy={status === 'sending'}
                support={(id) =>
                  void send(
                    props.needsEmail && !values.email.trim()
                      ? null
                      : { kind: 'support', idea_id: id, email: props.needsEmail ? values.email.trim() : undefined },
                  )
                }
              />
            )}
            {mode === 'comment' && <CommentFields {...fields} />}
            {mode === 'nps' && <NpsFields {...fields} />}
            {props.needsEmail && <EmailField {...fields} />}
            <button type="submit" class="primary" disabled={status === 'sending'}>
              Send
            </button>
          </form>
        </>
      )}
      <p class="status" role="status" aria-live="polite">
        {MESSAGES[status]}
      </p>
    </div>
  );
}
