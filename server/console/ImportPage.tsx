/** The Import page (placeholder until it is built). */
import type { Get, Post } from './api.ts';

export function ImportPage(_: {
  get: Get;
  post: Post;
  version: number;
  onError: (e: unknown) => void;
  onChanged: () => void;
}) {
  return <section class="import" aria-label="Import" />;
}
