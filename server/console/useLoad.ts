/**
 * Loads what a view shows and tracks loading, data and error. A new `key` (another page, a new
 * ranking) starts a fresh load; an answer for an older key that arrives late is ignored, so a
 * fast click through pages never shows the wrong page.
 */
import { useEffect, useState } from 'preact/hooks';

export type Load<T> =
  { state: 'loading'; data?: T } | { state: 'ok'; data: T } | { state: 'error'; error: unknown; data?: T };

/**
 * `fetch` is called when `key` or `version` changes; `version` is a refresh counter, bumping it
 * loads the same key again.
 */
export function useLoad<T>(
  key: string,
  fetch: () => Promise<T>,
  version: number,
  onError?: (e: unknown) => void,
): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    // Keep showing the previous data while the next page loads, so the table does not jump.
    setLoad((prev) => ({ state: 'loading', data: prev.data }));
    fetch().then(
      (data) => {
        if (live) setLoad({ state: 'ok', data });
      },
      (error) => {
        if (!live) return;
        setLoad({ state: 'error', error });
        onError?.(error);
      },
    );
    return () => {
      live = false;
    };
  }, [key, version, attempt]);
  return [load, () => setAttempt((n) => n + 1)];
}
