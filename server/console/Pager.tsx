/** Previous / next paging for a listing; hidden when everything fits on one page. */
import type { Pagination } from './types.ts';
import { number } from './format.ts';

export function Pager({
  pagination,
  noun,
  onPage,
}: {
  pagination: Pagination;
  noun: string;
  onPage: (page: number) => void;
}) {
  const { page, total_pages: pages, total_records: total } = pagination;
  return (
    <nav class="pager" aria-label={`${noun} pages`}>
      <span>
        {number(total)} {noun}
      </span>
      {pages > 1 && (
        <span class="pager-buttons">
          <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
            ← Previous
          </button>
          <span>
            Page {page} of {pages}
          </span>
          <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
            Next →
          </button>
        </span>
      )}
    </nav>
  );
}
