/**
 * Lists as CSV (docs/API.md#export): `format=csv`, or `Accept: text/csv` without a `format`.
 * The whole list, not one page: the rows are written as the store hands out pages, each page
 * fetched after the one before was written, so memory holds one page however long the list is,
 * and a slow reader slows the reads (the response's backpressure). Every cell goes through
 * csv-out.ts, so a cell a spreadsheet would run as a formula arrives as text.
 */
import type { Request, Response } from 'express';
import type { Cursor, Page } from '../core/store.ts';
import { csvLine } from './csv-out.ts';
import { invalid } from './errors.ts';

/** Rows fetched per store page while exporting (above the API's per_page limit: nobody reads these pages). */
export const EXPORT_PAGE = 500;

export type Cell = string | number | null | undefined;

/** Whether the list is asked for as CSV; `format` other than csv or json is a 400. */
export function wantsCsv(req: Request): boolean {
  const format = req.query.format;
  if (format === undefined || format === '') return /\btext\/csv\b/i.test(req.headers.accept ?? '');
  if (format === 'csv') return true;
  if (format === 'json') return false;
  throw invalid('invalid format', [{ field: 'format', message: 'expected "csv" or "json"' }]);
}

/**
 * Writes `header` and then every row `rows` yields. A failure after the first byte cannot be an
 * error envelope any more: the response is cut off, so a client never mistakes a part for the whole.
 */
export async function sendCsv(res: Response, name: string, header: string[], rows: AsyncIterable<Cell[][]>) {
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${name}.csv"`);
  res.setHeader('Cache-Control', 'no-store');
  let started = false;
  const write = async (text: string) => {
    started = true;
    if (!res.write(text))
      await new Promise<void>((ok) => {
        res.once('drain', ok);
        res.once('close', ok);
      });
  };
  try {
    await write(csvLine(header));
    for await (const batch of rows) {
      if (res.destroyed) return;
      if (batch.length > 0) await write(batch.map((r) => csvLine(r)).join(''));
    }
    res.end();
  } catch (err) {
    if (!started) throw err;
    res.destroy(err as Error);
  }
}

/** Every page of a listing, from the first, each as rows: keyset pages, so rows added meanwhile shift nothing. */
export async function* allPages<T>(
  list: (after: Cursor | undefined) => Promise<Page<T>>,
  rows: (items: T[]) => Promise<Cell[][]> | Cell[][],
): AsyncIterable<Cell[][]> {
  let after: Cursor | undefined;
  for (;;) {
    const page = await list(after);
    yield await rows(page.items);
    if (!page.next) return;
    after = page.next;
  }
}

/** The columns of exported feedback, from feedback as `GET /feedback` presents it. */
export const FEEDBACK_COLUMNS = [
  'id',
  'created_at',
  'kind',
  'title',
  'body',
  'score',
  'idea_id',
  'source',
  'page_url',
  'user_id',
  'user_email',
  'user_name',
  'external_user_id',
  'account_id',
  'account_name',
  'account_plan',
  'mrr_cents_at',
  'account_mrr_cents',
];

interface PresentedFeedback {
  id: string;
  created_at: string;
  kind: string;
  title: string | null;
  body: string | null;
  score: number | null;
  idea_id: string | null;
  source: string | null;
  page_url: string | null;
  mrr_cents_at: number | null;
  user: { id: string; email: string; name: string | null } | null;
  external_user: { external_id: string } | null;
  external_account: { id: string; name: string | null; plan: string | null; mrr_cents: number | null } | null;
}

export function feedbackCells(f: PresentedFeedback): Cell[] {
  return [
    f.id,
    f.created_at,
    f.kind,
    f.title,
    f.body,
    f.score,
    f.idea_id,
    f.source,
    f.page_url,
    f.user?.id,
    f.user?.email,
    f.user?.name,
    f.external_user?.external_id,
    f.external_account?.id,
    f.external_account?.name,
    f.external_account?.plan,
    f.mrr_cents_at,
    f.external_account?.mrr_cents,
  ];
}
