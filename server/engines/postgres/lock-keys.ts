/**
 * The advisory lock keys of the rows an intake transaction touches, and the guard that makes
 * them sufficient (docs/POSTGRES.md#concurrency).
 *
 * Identify and feedback entries run REPEATABLE READ, not SERIALIZABLE: under SERIALIZABLE every
 * read-ahead probe took a predicate lock (about a fifth of the database's CPU per identity
 * applied, measured), and past a few dozen keys PostgreSQL promotes them to a lock on the
 * whole index, so two collectors' inserts conflicted and retried (docs/PERFORMANCE.md#postgresql). REPEATABLE READ
 * still aborts one of two transactions that write the same row; what it does not catch is
 * write skew, two transactions each reading a row the other writes. Advisory locks rule that
 * out when every row a transaction reads or writes by key is covered by a lock it holds: then
 * no other transaction can write that row meanwhile. The keys an entry names are locked up
 * front (intake-log.ts `locksOf`); the guard checks every keyed access of the store against
 * them and records the keys it lacks (a pending identity's earlier accounts, a user's older
 * email), and the transaction is then run again holding those too (transactions.ts). An
 * access that is not by key (a scan by user id, say) needs the whole site.
 */

/** What a row is keyed by, for locking: an external id, an email, an account key. */
export type KeyKind = 'id' | 'email' | 'account';

export const siteKey = (site: string) => `site\0${site}`;
export const rowKey = (kind: KeyKind, site: string, key: string) => `${kind}\0${site}\0${key}`;

/** Thrown (retryably) when a transaction touched rows whose keys it did not hold. */
export class MissingLocks extends Error {
  readonly code = 'parley_missing_locks';
  constructor(readonly keys: string[]) {
    super(`applying needs ${keys.length} more lock(s)`);
  }
}

export class LockGuard {
  /** Held keys by site and kind, so a check builds no string (it runs several times per person). */
  private readonly held = new Map<string, Map<string, Set<string>>>();
  private readonly sites = new Set<string>();
  private readonly missing = new Set<string>();

  constructor(exclusive: string[]) {
    for (const k of exclusive) {
      // A key may itself hold a \0: only the first two separate.
      const a = k.indexOf('\0');
      const b = k.indexOf('\0', a + 1);
      const kind = k.slice(0, a);
      if (b < 0) {
        if (kind === 'site') this.sites.add(k.slice(a + 1));
        continue;
      }
      const site = k.slice(a + 1, b);
      const key = k.slice(b + 1);
      let bySite = this.held.get(site);
      if (!bySite) this.held.set(site, (bySite = new Map()));
      let keys = bySite.get(kind);
      if (!keys) bySite.set(kind, (keys = new Set()));
      keys.add(key);
    }
  }

  /** Records `kind`/`key` as missing unless held (or the whole site is). */
  check(kind: KeyKind, site: string, key: string): void {
    if (this.sites.has(site) || this.held.get(site)?.get(kind)?.has(key)) return;
    this.missing.add(rowKey(kind, site, key));
  }

  /** For an access that is not by key: the whole site must be held. */
  checkSite(site: string): void {
    if (!this.sites.has(site)) this.missing.add(siteKey(site));
  }

  /** Throws MissingLocks when anything was touched without its lock. */
  assert(): void {
    if (this.missing.size > 0) throw new MissingLocks([...this.missing]);
  }
}
