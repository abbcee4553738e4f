/**
 * Asks for the admin key. Stateless apart from the text being typed: the App checks the key
 * against the collector and hands back `error` when it was refused.
 */
import { useState } from 'preact/hooks';

export function KeyForm({
  error,
  checking,
  onSubmit,
}: {
  error: string;
  checking: boolean;
  onSubmit: (key: string) => void;
}) {
  const [key, setKey] = useState('');
  return (
    <main class="signin">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) onSubmit(key.trim());
        }}
      >
        <h1>
          <span class="logo" aria-hidden="true">
            ◆
          </span>{' '}
          Parley admin
        </h1>
        <p>See who asked for what, and the revenue behind each request.</p>
        <label for="admin-key">Admin key</label>
        <input
          id="admin-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={key}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'key-error' : 'key-hint'}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        {error ? (
          <p id="key-error" class="form-error" role="alert">
            {error}
          </p>
        ) : (
          <p id="key-hint" class="hint">
            For the demo, it is the “demo admin key” that <code>npm start</code> printed. It is kept only in this tab.
          </p>
        )}
        <button type="submit" class="primary" disabled={checking}>
          {checking ? 'Checking…' : 'Open console'}
        </button>
      </form>
    </main>
  );
}
