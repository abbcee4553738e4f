/**
 * One run of `parley import` (cli/import.ts): validates each record with the schema the
 * collector uses, sends the valid ones in chunks of 1000 to the transactional import (or, in a
 * dry run, to its `?dry_run=true`), and when a chunk comes back 422 drops the records it names
 * and resends the rest — so every valid record is imported (or counted). Failed records are
 * written to the errors file through csvLine, which neutralises what a spreadsheet would run.
 */
import type { WriteStream } from 'node:fs';
import type { z } from 'zod';
import { importAccountSchema, importUserSchema } from '../../shared/imports.ts';
import { ADMIN_BODY_MAX_BYTES, IMPORT_MAX_RECORDS } from '../../shared/limits.ts';
import { csvLine } from '../http/csv-out.ts';
import type { FileRecord } from './records.ts';
import { postChunk, type Detail } from './send.ts';

export const KINDS = {
  users: { route: '/api/v2/admin/external_users/import', envelope: 'users', schema: importUserSchema as z.ZodType },
  accounts: {
    route: '/api/v2/admin/external_accounts/import',
    envelope: 'accounts',
    schema: importAccountSchema as z.ZodType,
  },
} as const;
export type Kind = (typeof KINDS)[keyof typeof KINDS];

/** Chunks stay well under the collector's body limit even with wide records. */
const CHUNK_MAX_BYTES = Math.floor(ADMIN_BODY_MAX_BYTES * 0.75);

/** What a dry run's chunks would do, summed: `{created, updated, unchanged}` per record kind. */
export type Tallies = Record<string, { created: number; updated: number; unchanged: number }>;

interface Failure {
  number: number;
  message: string;
  code: string;
  status: number | '';
}
interface Pending {
  number: number;
  raw: Record<string, unknown>;
}

export class FatalError extends Error {}

/** `field: message; field: message` for one record. */
function describe(details: { field: string; message: string }[]): string {
  return details.map((d) => `${d.field}: ${d.message}`).join('; ');
}

export class ImportRun {
  /** Records imported, or in a dry run, records the collector found valid. */
  imported = 0;
  failed = 0;
  warnings = 0;
  readonly tallies: Tallies = {};
  private chunk: Pending[] = [];
  private chunkBytes = 0;
  private failures: Failure[] = [];

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly kind: Kind,
    private readonly errors: WriteStream,
    private readonly dryRun = false,
  ) {}

  fail(f: Failure) {
    this.failures.push(f);
    this.failed++;
  }

  async add(rec: FileRecord) {
    if (rec.error !== undefined)
      return this.fail({ number: rec.number, message: rec.error, code: 'unreadable_record', status: '' });
    const parsed = this.kind.schema.safeParse(rec.record);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({
        field: i.path.map(String).join('.') || '(record)',
        message: i.message,
      }));
      return this.fail({ number: rec.number, message: describe(details), code: 'invalid_record', status: '' });
    }
    const bytes = Buffer.byteLength(JSON.stringify(rec.record));
    if (this.chunk.length > 0 && this.chunkBytes + bytes > CHUNK_MAX_BYTES) await this.flush();
    this.chunk.push({ number: rec.number, raw: rec.record! });
    this.chunkBytes += bytes;
    if (this.chunk.length >= IMPORT_MAX_RECORDS) await this.flush();
  }

  /** Sends the chunk; on 422 drops the records named and resends the rest. */
  async flush() {
    let batch = this.chunk;
    this.chunk = [];
    this.chunkBytes = 0;
    const route = this.url + this.kind.route + (this.dryRun ? '?dry_run=true' : '');
    for (let round = 0; batch.length > 0 && round < 3; round++) {
      const out = await postChunk(route, this.key, { [this.kind.envelope]: batch.map((p) => p.raw) });
      if (out.kind === 'fatal') throw new FatalError(out.message);
      if (out.kind === 'ok') {
        this.imported += batch.length;
        this.warnings += out.body.warnings?.length ?? 0;
        if (this.dryRun) this.count(out.body as Record<string, unknown>);
        batch = [];
      } else if (out.kind === 'refused') {
        for (const p of batch)
          this.fail({ number: p.number, message: out.message, code: out.code, status: out.status });
        batch = [];
      } else {
        const byIndex = new Map<number, Detail[]>();
        for (const d of out.details)
          if (d.index !== undefined && batch[d.index]) byIndex.set(d.index, [...(byIndex.get(d.index) ?? []), d]);
        if (byIndex.size === 0) break;
        for (const [i, details] of byIndex)
          this.fail({
            number: batch[i].number,
            message: describe(details),
            code: 'invalid_record',
            status: out.status,
          });
        batch = batch.filter((_, i) => !byIndex.has(i));
      }
    }
    for (const p of batch)
      this.fail({
        number: p.number,
        message: 'the collector refused the chunk without naming records',
        code: 'invalid_request',
        status: 422,
      });
    this.writeFailures();
  }

  /** Adds a dry-run answer's `{created, updated, unchanged}` counts to the run's. */
  private count(body: Record<string, unknown>) {
    for (const [name, t] of Object.entries(body)) {
      if (typeof t !== 'object' || t === null || !('created' in t)) continue;
      const sum = (this.tallies[name] ??= { created: 0, updated: 0, unchanged: 0 });
      const c = t as { created: number; updated: number; unchanged: number };
      sum.created += c.created;
      sum.updated += c.updated;
      sum.unchanged += c.unchanged;
    }
  }

  /** Failures so far, in record order: every buffered one precedes any record still to come. */
  writeFailures() {
    this.failures.sort((a, b) => a.number - b.number);
    for (const f of this.failures) this.errors.write(csvLine([f.number, f.message, f.code, f.status]));
    this.failures = [];
  }
}
