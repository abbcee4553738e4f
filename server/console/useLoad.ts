/**
 * Loads one admin route and tracks loading, data and error. Changing the path (a new page, a
 * new tab) starts a fresh load; an answer to an older path that arrives late is ignored, so a
 * fast click through pages never shows the wrong page.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Get } from './api.ts';

export type Load<T> =
  | { state: 'loading'; data?: T }
  | { state: 'ok'; data: T }
  | { state: 'error'; error: unknown; data?: T };

/** `version` is a refresh counter: bumping it loads the same path again. */
export function useLoad<T>(get: Get, path: string, version: number, onError?: (e: unknown) => void): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    // Keep showing the previous data while the next page loads, so the table does not jump.
    setLoad((prev) => ({ state: 'loading', data: prev.data }));
    get<T>(path).then(
      (data) => { if (live) setLoad({ state: 'ok', data }); },
      (error) => {
        if (!live) return;
        setLoad({ state: 'error', error });
        onError?.(error);
      },
    );
    return () => { live = false; };
  }, [get, path, version, attempt]);
  return [load, () => setAttempt((n) => n + 1)];
}
