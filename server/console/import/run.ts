/**
 * One Validate or Import run of the console's Import page, the browser's twin of the CLI's
 * (README.md#operator-cli): records are cut into chunks of at most 1000 records and ~3 MB, each
 * sent to the transactional import — or, to validate, to its `?dry_run=true`, which writes
 * nothing (docs/API.md#post-apiv2adminexternal_usersimport-and-external_accountsimport). A 422
 * names the bad records; they are set aside with their messages and the rest of the chunk is
 * sent again, so every good record is imported (or counted). 429 and 503 wait as long as
 * `Retry-After` says; network failures and 5xx are retried with backoff. The failures become
 * the errors file, written like the CLI's (`record_number,message,error_code,status_code`,
 * neutralised against spreadsheet formulas). I/O comes in as `post`, so tests drive it.
 */
import { ADMIN_BODY_MAX_BYTES, IMPORT_MAX_RECORDS } from '../../../shared/limits.ts';
import { csvLine } from '../../http/csv-out.ts';
import { ApiError, type Post } from '../api.ts';
import type { ImportKind } from './fields.ts';
import type { NumberedRecord } from './read.ts';

/** Chunks stay well under the collector's admin body limit even with wide records. */
export const CHUNK_MAX_BYTES = Math.floor(ADMIN_BODY_MAX_BYTES * 0.75);
const ROUTE: Record<ImportKind, { path: string; envelope: string }> = {
  users: { path: '/external_users/import', envelope: 'users' },
  accounts: { path: '/external_accounts/import', envelope: 'accounts' },
};
const ATTEMPTS = 6;
const utf8 = new TextEncoder();

export interface Failure {
  number: number;
  message: string;
  code: string;
  status: number | '';
}
export type Tallies = Record<string, { created: number; updated: number; unchanged: number }>;

export interface Progress {
  /** Records read from the file so far. */
  read: number;
  /** Records the collector took (imported, or in a dry run found valid). */
  done: number;
  failed: number;
}

/**
 * Cuts records into chunks by count and by JSON size: `add` returns a full chunk to send
 * (the one before the record that would overflow it), `end` whatever is left.
 */
export class Chunker<T> {
  private items: T[] = [];
  private bytes = 0;
  constructor(
    private readonly maxItems = IMPORT_MAX_RECORDS,
    private readonly maxBytes = CHUNK_MAX_BYTES,
  ) {}
  add(item: T, size: number): T[] | null {
    let full: T[] | null = null;
    if (this.items.length > 0 && this.bytes + size > this.maxBytes) full = this.take();
    this.items.push(item);
    this.bytes += size;
    if (!full && this.items.length >= this.maxItems) full = this.take();
    return full;
  }
  end(): T[] | null {
    return this.items.length ? this.take() : null;
  }
  private take() {
    const out = this.items;
    this.items = [];
    this.bytes = 0;
    return out;
  }
}

/** `field: message; field: message` for one record, the CLI's wording. */
const describe = (details: { field: string; message: string }[]) =>
  details.map((d) => `${d.field}: ${d.message}`).join('; ');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunOptions {
  kind: ImportKind;
  post: Post;
  dryRun: boolean;
  /** Added to every user record's tags (users imports only). */
  tag?: string;
  onProgress?: (p: Progress) => void;
  /** Waiting before a retry, injectable so tests do not sleep. */
  wait?: (ms: number) => Promise<void>;
}

export class ImportRun {
  readonly progress: Progress = { read: 0, done: 0, failed: 0 };
  readonly failures: Failure[] = [];
  readonly tallies: Tallies = {};
  warnings = 0;
  private chunker = new Chunker<{ number: number; record: Record<string, unknown> }>();

  constructor(private readonly o: RunOptions) {}

  private fail(f: Failure) {
    this.failures.push(f);
    this.progress.failed++;
  }

  /** Takes the records of one batch read from the file; sends every chunk they fill. */
  async add(records: NumberedRecord[]) {
    for (const r of records) {
      this.progress.read++;
      if (r.error !== undefined || !r.record) {
        this.fail({ number: r.number, message: r.error ?? 'unreadable', code: 'unreadable_record', status: '' });
        continue;
      }
      const record = this.withTag(r.record);
      const full = this.chunker.add({ number: r.number, record }, utf8.encode(JSON.stringify(record)).length);
      if (full) await this.send(full);
    }
    this.o.onProgress?.({ ...this.progress });
  }

  /** Sends what is left; the failures are then complete, in record order. */
  async finish() {
    const rest = this.chunker.end();
    if (rest) await this.send(rest);
    this.failures.sort((a, b) => a.number - b.number);
    this.o.onProgress?.({ ...this.progress });
  }

  private withTag(record: Record<string, unknown>) {
    const tag = this.o.tag?.trim();
    if (!tag || this.o.kind !== 'users') return record;
    const tags = Array.isArray(record.tags) ? record.tags : [];
    return tags.includes(tag) ? record : { ...record, tags: [...tags, tag] };
  }

  /** One chunk: on 422 the named records fail and the rest goes again. */
  private async send(chunk: { number: number; record: Record<string, unknown> }[]) {
    const { path, envelope } = ROUTE[this.o.kind];
    let batch = chunk;
    for (let round = 0; batch.length > 0 && round < 3; round++) {
      try {
        const body = await this.retrying(() =>
          this.o.post<Record<string, unknown>>(path + (this.o.dryRun ? '?dry_run=true' : ''), {
            [envelope]: batch.map((b) => b.record),
          }),
        );
        this.progress.done += batch.length;
        this.warnings += Array.isArray(body.warnings) ? body.warnings.length : 0;
        if (this.o.dryRun) this.count(body);
        return;
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 422) throw e;
        const byIndex = new Map<number, { field: string; message: string }[]>();
        for (const d of e.details)
          if (d.index !== undefined && batch[d.index]) byIndex.set(d.index, [...(byIndex.get(d.index) ?? []), d]);
        if (byIndex.size === 0) break;
        for (const [i, details] of byIndex)
          this.fail({ number: batch[i].number, message: describe(details), code: 'invalid_record', status: 422 });
        batch = batch.filter((_, i) => !byIndex.has(i));
      }
    }
    for (const b of batch)
      this.fail({
        number: b.number,
        message: 'the collector refused the chunk without naming records',
        code: 'invalid_request',
        status: 422,
      });
  }

  /** Retries what may pass later: 429/503 after Retry-After, 408/5xx/network with backoff. */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    const wait = this.o.wait ?? sleep;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const retryable =
          e instanceof ApiError && (e.status === 0 || e.status === 408 || e.status === 429 || e.status >= 500);
        if (!retryable || attempt >= ATTEMPTS) throw e;
        await wait(e.retryAfter !== null ? e.retryAfter * 1000 : Math.min(30_000, 500 * 2 ** (attempt - 1)));
      }
    }
  }

  /** Adds a dry run's `{created, updated, unchanged}` per kind of record. */
  private count(body: Record<string, unknown>) {
    for (const [name, t] of Object.entries(body)) {
      if (typeof t !== 'object' || t === null || !('created' in t)) continue;
      const c = t as { created: number; updated: number; unchanged: number };
      const sum = (this.tallies[name] ??= { created: 0, updated: 0, unchanged: 0 });
      sum.created += c.created;
      sum.updated += c.updated;
      sum.unchanged += c.unchanged;
    }
  }

  /** The errors file, as the CLI writes it. */
  errorsCsv(): string {
    return (
      csvLine(['record_number', 'message', 'error_code', 'status_code']) +
      this.failures.map((f) => csvLine([f.number, f.message, f.code, f.status])).join('')
    );
  }
}
