/** @jsxImportSource preact */
/**
 * The form fields of each kind of feedback. Stateless: values in, `onInput` out; the Panel
 * holds the state. Every field is wrapped in its label, so its accessible name needs no id.
 */
import { FEEDBACK_BODY_MAX_CHARS, FEEDBACK_TITLE_MAX_CHARS } from '../../shared/limits.ts';
import type { IdeaMatch } from '../protocol.ts';

export interface Values {
  title: string;
  body: string;
  email: string;
  score: number | null;
}
type Set = (patch: Partial<Values>) => void;
const text = (set: Set, key: 'title' | 'body' | 'email') => (e: Event) =>
  set({ [key]: (e.currentTarget as HTMLInputElement).value });

export function IdeaFields(p: {
  values: Values;
  set: Set;
  matches: IdeaMatch[];
  support(id: string): void;
  busy: boolean;
}) {
  return (
    <>
      <label>
        Title
        <input
          name="title"
          required
          maxLength={FEEDBACK_TITLE_MAX_CHARS}
          value={p.values.title}
          onInput={text(p.set, 'title')}
        />
      </label>
      {p.matches.length > 0 && (
        <section aria-label="Similar ideas">
          <p>Similar ideas — support one instead?</p>
          <ul>
            {p.matches.map((idea) => (
              <li key={idea.id}>
                <span>
                  {idea.title} ({idea.supporters_count})
                </span>
                <button
                  type="button"
                  disabled={p.busy}
                  aria-label={`Support: ${idea.title}`}
                  onClick={() => p.support(idea.id)}
                >
                  Support
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <label>
        Details
        <textarea name="body" maxLength={FEEDBACK_BODY_MAX_CHARS} value={p.values.body} onInput={text(p.set, 'body')} />
      </label>
    </>
  );
}

export function CommentFields(p: { values: Values; set: Set }) {
  return (
    <label>
      Comment
      <textarea
        name="body"
        required
        maxLength={FEEDBACK_BODY_MAX_CHARS}
        value={p.values.body}
        onInput={text(p.set, 'body')}
      />
    </label>
  );
}

const SCORES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

export function NpsFields(p: { values: Values; set: Set }) {
  return (
    <>
      <fieldset>
        <legend>How likely are you to recommend us to a friend or colleague? (0 = not at all, 10 = extremely)</legend>
        <div class="scores">
          {SCORES.map((n) => (
            <label key={n}>
              <input
                type="radio"
                name="score"
                value={n}
                checked={p.values.score === n}
                onChange={() => p.set({ score: n })}
              />
              {n}
            </label>
          ))}
        </div>
      </fieldset>
      <label>
        What is the main reason for your score?
        <textarea name="body" maxLength={FEEDBACK_BODY_MAX_CHARS} value={p.values.body} onInput={text(p.set, 'body')} />
      </label>
    </>
  );
}

export function EmailField(p: { values: Values; set: Set }) {
  return (
    <label>
      Your email
      <input
        type="email"
        name="email"
        required
        autoComplete="email"
        value={p.values.email}
        onInput={text(p.set, 'email')}
      />
    </label>
  );
}
