/**
 * The in-memory store: Maps and a few indexes. The embedded engine without a data directory
 * (tests) is this store alone; the lowdb store is this plus checkpoints to files. Every method
 * completes without yielding, so each call — and `promote` as a whole — is atomic with respect
 * to the others.
 */
import {
  accountKeysOf,
  type Account,
  type ExternalUser,
  type Feedback,
  type Idea,
  type Pending,
  type PendingAccount,
  type Site,
  type User,
} from '../../core/records.ts';
import type { CustomFieldDef } from '../../../shared/imports.ts';
import type { Segment } from '../../core/filters.ts';
import type {
  AccountQuery,
  ExternalUserQuery,
  FeedbackQuery,
  Page,
  PageQuery,
  Promotion,
  SiteCounts,
  Store,
  UserFeedbackQuery,
  UserQuery,
} from '../../core/store.ts';
import { OUTBOX_TTL_MS } from '../../../shared/limits.ts';
import { flat } from './flat-string.ts';
import { MessageWindow } from './message-window.ts';
import {
  packPending,
  packPendingAccount,
  pendingAccountUpdatedAt,
  pendingReceivedAt,
  unpackPending,
  unpackPendingAccount,
} from './packed-records.ts';
import * as segments from './segment-query.ts';
import { accountOrder, feedbackOrder, hasUserFilter, matchesUser, pageOf, userOrder } from './user-query.ts';

/** Collections, as the lowdb store partitions them into files. */
export type Collection =
  | 'sites'
  | 'users'
  | 'external_users'
  | 'accounts'
  | 'pending'
  | 'pending_accounts'
  | 'messages'
  | 'feedback'
  | 'ideas';

const k = (site: string, id: string) => `${site}\u0000${id}`;
/** The site of a key made by `k` (opening a store calls this once per pending identity). */
const siteOfKey = (key: string) => key.slice(0, key.indexOf('\u0000'));
/** The site and the id of a key made by `k`. */
export const splitKey = (key: string) => {
  const cut = key.indexOf('\u0000');
  return [key.slice(0, cut), key.slice(cut + 1)] as const;
};

function* ofSite<T extends { site: string }>(map: Map<string, T>, site: string) {
  for (const v of map.values()) if (v.site === site) yield v;
}

/**
 * A Map of one kind of per-site record that keeps how many each site has, so `counts` (every
 * /stats call, every listing's total) is a lookup instead of a walk over every record. Keys
 * contain the site, so a key's site never changes; records packed into strings
 * (packed-records.ts) do not carry it, so their Map reads it from the key.
 */
class SiteMap<V> extends Map<string, V> {
  private readonly perSite = new Map<string, number>();

  constructor(private readonly siteOf: (key: string, v: V) => string = (_key, v) => (v as { site: string }).site) {
    super();
  }

  override set(key: string, v: V): this {
    // One lookup, not has() then set(): opening a store sets every record once.
    const size = this.size;
    super.set(key, v);
    if (this.size !== size) {
      const site = this.siteOf(key, v);
      this.perSite.set(site, this.countOf(site) + 1);
    }
    return this;
  }

  override delete(key: string): boolean {
    const v = super.get(key);
    if (v === undefined) return false;
    const site = this.siteOf(key, v);
    this.perSite.set(site, this.countOf(site) - 1);
    return super.delete(key);
  }

  override clear(): void {
    this.perSite.clear();
    super.clear();
  }

  countOf(site: string): number {
    return this.perSite.get(site) ?? 0;
  }
}

export class MemoryStore implements Store {
  protected seq = 0;
  protected sites = new Map<string, Site>();
  protected users = new SiteMap<User>();
  /** Site → its user ids in creation order, built on first listing, then kept up to date. */
  private userOrder = new Map<string, string[]>();
  protected usersByEmail = new Map<string, string>();
  protected externalUsers = new SiteMap<ExternalUser>();
  protected externalByUser = new Map<string, Set<string>>();
  /** External user → its place in creation order (the Map's order, as a number to sort by). */
  private euPlace = new Map<string, number>();
  private nextPlace = 0;
  /** External user → the account it was last stored with; account → its external users. */
  private euAccount = new Map<string, string[]>();
  private accountUsers = new Map<string, Set<string>>();
  protected accounts = new SiteMap<Account>();
  /**
   * Pending identities and accounts, each packed into one JSON string (packed-records.ts): they
   * are most of a store's records and are read back rarely (README, Limits of the embedded store).
   */
  protected pending = new SiteMap<string>(siteOfKey);
  protected pendingAccounts = new Map<string, string>();
  /** Client message ids applied, for as long as a client may retry one (message-window.ts). */
  protected messages = new MessageWindow(OUTBOX_TTL_MS);
  protected feedback = new SiteMap<Feedback>();
  /** Feedback per person and account for segments (segment-query.ts); every feedback write calls `put`. */
  private feedbackIndex = new segments.FeedbackIndex();
  protected ideas = new Map<string, Idea>();

  /** The log position the last checkpoint covers (engines/embedded/index.ts hands it to the intake). */
  appliedSeq() {
    return this.seq;
  }
  /** Nothing to write: memory is the whole store. The lowdb store writes its files here. */
  async prepareCheckpoint(seq: number) {
    this.seq = seq;
    return async () => {};
  }

  /**
   * Called on every write with the record's key in its Map (`gone`: it was deleted); the lowdb
   * store uses it to know which records a checkpoint writes.
   */
  protected touched(_collection: Collection, _key: string, _gone = false): void {}

  async listSites() {
    return [...this.sites.values()];
  }
  async getSite(key: string) {
    return this.sites.get(key);
  }
  async getSiteByAdminKeyHash(hash: string) {
    for (const s of this.sites.values()) if (s.admin_key_hash === hash) return s;
    return undefined;
  }
  async putSite(site: Site) {
    this.sites.set(site.key, site);
    this.touched('sites', site.key);
  }

  async getUser(site: string, id: string) {
    return this.users.get(k(site, id));
  }
  async getUserByEmail(site: string, email: string) {
    const id = this.usersByEmail.get(k(site, email));
    return id === undefined ? undefined : this.users.get(k(site, id));
  }
  async putUser(user: User) {
    this.putUserSync(user);
  }
  protected putUserSync(user: User) {
    const key = k(user.site, user.id);
    const old = this.users.get(key);
    if (old && old.email !== user.email) this.usersByEmail.delete(k(user.site, old.email));
    if (!old) this.userOrder.get(user.site)?.push(user.id);
    this.users.set(key, user);
    this.usersByEmail.set(k(user.site, user.email), user.id);
    this.touched('users', key);
  }
  async listUsers(site: string, q: UserQuery): Promise<Page<User>> {
    const ids = this.userIds(site);
    const inSegment = segments.personFilter(q.segment, this.lookups(site), (id) => this.externalsOf(site, id));
    if (!hasUserFilter(q) && !inSegment && !q.sort) {
      // The common case costs one slice (and a search for a cursor), however many users.
      const p = pageOf(ids, q, { id: (id) => id });
      return { ...p, items: p.items.map((id) => this.users.get(k(site, id))!) };
    }
    let users: User[];
    if (hasUserFilter(q) || inSegment) {
      // Map order is creation order, the same as `ids`; external users are looked up only
      // for the users a cheaper test did not already rule out.
      users = [];
      for (const u of this.users.values())
        if (u.site === site && matchesUser(u, () => this.externalsOf(site, u.id), q) && (!inSegment || inSegment(u.id)))
          users.push(u);
    } else {
      users = ids.map((id) => this.users.get(k(site, id))!);
    }
    return pageOf(users, q, q.sort ? userOrder(q.sort) : { id: (u) => u.id });
  }
  private userIds(site: string): string[] {
    let ids = this.userOrder.get(site);
    if (!ids) {
      ids = [...ofSite(this.users, site)].map((u) => u.id);
      this.userOrder.set(site, ids);
    }
    return ids;
  }
  async deleteUser(site: string, id: string) {
    const key = k(site, id);
    const user = this.users.get(key);
    if (!user) return;
    this.users.delete(key);
    this.usersByEmail.delete(k(site, user.email));
    this.externalByUser.delete(key);
    this.userOrder.delete(site);
    this.touched('users', key, true);
  }

  async getExternalUser(site: string, externalId: string) {
    return this.externalUsers.get(k(site, externalId));
  }
  async putExternalUser(eu: ExternalUser) {
    this.putExternalUserSync(eu);
  }
  protected putExternalUserSync(eu: ExternalUser) {
    const key = k(eu.site, eu.external_id);
    // An admin may link an external user to another user: the old user's index lets go of it.
    const old = this.externalUsers.get(key);
    if (old && old.user_id !== eu.user_id) this.externalByUser.get(k(eu.site, old.user_id))?.delete(eu.external_id);
    if (!old) this.euPlace.set(key, this.nextPlace++);
    this.externalUsers.set(key, eu);
    this.feedbackIndex.person(eu.site, eu.external_id, eu);
    const userKey = k(eu.site, eu.user_id);
    let set = this.externalByUser.get(userKey);
    if (!set) this.externalByUser.set(userKey, (set = new Set()));
    set.add(eu.external_id);
    this.indexAccount(eu.site, key, accountKeysOf(eu));
    this.touched('external_users', key);
  }
  /**
   * Keeps users_count of an account a lookup instead of a scan of every external user; an
   * external user counts for every account it is linked to (records.ts accountKeysOf).
   */
  private indexAccount(site: string, euKey: string, keys: string[]) {
    const old = this.euAccount.get(euKey) ?? [];
    if (old.length === keys.length && old.every((key, i) => key === keys[i])) return;
    for (const key of old) this.accountUsers.get(k(site, key))?.delete(euKey);
    if (keys.length === 0) {
      this.euAccount.delete(euKey);
      return;
    }
    this.euAccount.set(euKey, keys);
    for (const key of keys) {
      let set = this.accountUsers.get(k(site, key));
      if (!set) this.accountUsers.set(k(site, key), (set = new Set()));
      set.add(euKey);
    }
  }
  async externalUsersOf(site: string, userId: string) {
    return this.externalsOf(site, userId);
  }
  /** A user's external users in creation order (a re-linked one keeps its place, as on PostgreSQL). */
  private externalsOf(site: string, userId: string) {
    const out: ExternalUser[] = [];
    for (const id of this.externalByUser.get(k(site, userId)) ?? []) {
      const eu = this.externalUsers.get(k(site, id));
      if (eu) out.push(eu);
    }
    const place = (eu: ExternalUser) => this.euPlace.get(k(site, eu.external_id)) ?? 0;
    return out.length > 1 ? out.sort((a, b) => place(a) - place(b)) : out;
  }
  async listExternalUsers(site: string, q: ExternalUserQuery): Promise<Page<ExternalUser>> {
    // One user's few are found through the index; otherwise Map order is creation order.
    const from = q.userId === undefined ? ofSite(this.externalUsers, site) : this.externalsOf(site, q.userId);
    const items: ExternalUser[] = [];
    for (const eu of from) if (q.account === undefined || accountKeysOf(eu).includes(q.account)) items.push(eu);
    return pageOf(items, q, { id: (eu) => eu.external_id });
  }
  async deleteExternalUser(site: string, externalId: string) {
    const key = k(site, externalId);
    const eu = this.externalUsers.get(key);
    if (!eu) return;
    this.externalUsers.delete(key);
    this.feedbackIndex.person(site, externalId, null);
    this.euPlace.delete(key);
    this.externalByUser.get(k(site, eu.user_id))?.delete(externalId);
    this.indexAccount(site, key, []);
    this.touched('external_users', key, true);
  }

  async getAccount(site: string, key: string) {
    return this.accounts.get(k(site, key));
  }
  async putAccount(account: Account) {
    this.putAccountSync(account);
  }
  protected putAccountSync(account: Account) {
    this.accounts.set(k(account.site, account.key), account);
    this.touched('accounts', k(account.site, account.key));
  }
  async listAccounts(site: string, q: AccountQuery) {
    const inSegment = segments.accountFilter(q.segment);
    const all = [...ofSite(this.accounts, site)];
    return pageOf(inSegment ? all.filter(inSegment) : all, q, q.sort ? accountOrder(q.sort) : { id: (a) => a.key });
  }
  async deleteAccount(site: string, key: string) {
    if (this.accounts.delete(k(site, key))) this.touched('accounts', k(site, key), true);
  }
  async accountCounts(site: string, key: string) {
    const users_count = this.accountUsers.get(k(site, key))?.size ?? 0;
    let feedback_count = 0;
    for (const f of ofSite(this.feedback, site)) if (f.account_key === key) feedback_count++;
    return { users_count, feedback_count };
  }

  async getPending(site: string, externalId: string) {
    const packed = this.pending.get(k(site, externalId));
    return packed === undefined ? undefined : unpackPending(site, externalId, packed);
  }
  async putPending(p: Pending) {
    const key = flat(k(p.site, p.external_id));
    this.pending.set(key, packPending(p));
    this.touched('pending', key);
  }
  async deletePending(site: string, externalId: string) {
    this.deletePendingSync(site, externalId);
  }
  async pendingIdsByEmail(site: string, email: string) {
    // The email as JSON spells it rules out nearly every record without parsing it; the few
    // that contain it are parsed and compared exactly.
    const prefix = k(site, '');
    const needle = JSON.stringify(email);
    const ids: string[] = [];
    for (const [key, packed] of this.pending) {
      if (!key.startsWith(prefix) || !packed.includes(needle)) continue;
      const id = key.slice(prefix.length);
      if (unpackPending(site, id, packed).profile.f.email === email) ids.push(id);
    }
    return ids;
  }
  protected deletePendingSync(site: string, externalId: string) {
    const key = k(site, externalId);
    if (this.pending.delete(key)) this.touched('pending', key, true);
  }

  async getPendingAccount(site: string, key: string) {
    const packed = this.pendingAccounts.get(k(site, key));
    return packed === undefined ? undefined : unpackPendingAccount(site, key, packed);
  }
  async putPendingAccount(a: PendingAccount) {
    const key = flat(k(a.site, a.key));
    this.pendingAccounts.set(key, packPendingAccount(a));
    this.touched('pending_accounts', key);
  }
  async deletePendingAccount(site: string, key: string) {
    this.deletePendingAccountSync(site, key);
  }
  protected deletePendingAccountSync(site: string, key: string) {
    const id = k(site, key);
    if (this.pendingAccounts.delete(id)) this.touched('pending_accounts', id, true);
  }

  async hasMessage(site: string, messageId: string) {
    return this.messages.has(k(site, messageId));
  }
  async addMessage(site: string, messageId: string, at: number) {
    const key = k(site, messageId);
    this.messages.add(key, at);
    this.touched('messages', key);
  }

  async getFeedbackByMessage(site: string, messageId: string) {
    return this.feedback.get(k(site, messageId));
  }
  async putFeedback(f: Feedback, idea: Idea | null) {
    this.putFeedbackSync(f, idea);
  }
  protected putFeedbackSync(f: Feedback, idea: Idea | null) {
    if (idea) {
      this.ideas.set(k(idea.site, idea.id), idea);
      this.touched('ideas', k(idea.site, idea.id));
    }
    this.feedback.set(k(f.site, f.message_id), f);
    this.feedbackIndex.put(k(f.site, f.message_id), f);
    this.touched('feedback', k(f.site, f.message_id));
  }
  async listFeedback(site: string, q: FeedbackQuery) {
    const all = ofSite(this.feedback, site);
    const list = q.segment ? segments.matchingFeedback(all, q.segment, this.lookups(site)).slice() : [...all];
    return pageOf(list.reverse(), q, { id: (f) => f.message_id });
  }
  async segmentTotals(site: string, segment: Segment) {
    return segments.segmentTotals(ofSite(this.feedback, site), segment, this.lookups(site));
  }
  async segmentIdeaStats(site: string, segment: Segment) {
    return segments.segmentIdeaStats(ofSite(this.feedback, site), segment, this.lookups(site));
  }
  async npsWeeks(site: string, segment: Segment) {
    return segments.npsWeeks(ofSite(this.feedback, site), segment, this.lookups(site));
  }
  /** Synchronous lookups for the segment predicate (segment-query.ts). */
  private lookups(site: string): segments.Lookups {
    return {
      externalUser: (id) => (id === null ? undefined : this.externalUsers.get(k(site, id))),
      account: (key) => (key === null ? undefined : this.accounts.get(k(site, key))),
      externalUsers: () => ofSite(this.externalUsers, site),
      store: this,
      site,
      index: this.feedbackIndex.of(site, this.feedback.countOf(site), () => ({
        feedback: [...this.feedback].filter(([, f]) => f.site === site),
        externalUsers: ofSite(this.externalUsers, site),
      })),
    };
  }
  async listUserFeedback(site: string, q: UserFeedbackQuery) {
    const inSegment = segments.feedbackFilter(q.segment, this.lookups(site));
    const mine: Feedback[] = [];
    for (const f of ofSite(this.feedback, site))
      if (f.user_id === q.userId && (!inSegment || inSegment(f))) mine.push(f);
    return pageOf(mine, q, feedbackOrder);
  }
  async moveFeedback(site: string, externalUserId: string, fromUserId: string, toUserId: string) {
    let n = 0;
    for (const f of ofSite(this.feedback, site)) {
      if (f.user_id !== fromUserId || f.external_user_id !== externalUserId) continue;
      f.user_id = toUserId;
      this.touched('feedback', k(site, f.message_id));
      n++;
    }
    return n;
  }
  async feedbackForIdea(site: string, ideaId: string) {
    return [...ofSite(this.feedback, site)].filter((f) => f.idea_id === ideaId);
  }
  async detachFeedback(site: string, userId: string, accountKeys: string[]) {
    let n = 0;
    for (const f of ofSite(this.feedback, site)) {
      if (f.user_id !== userId) continue;
      f.user_id = null;
      f.external_user_id = null;
      if (f.account_key !== null && accountKeys.includes(f.account_key)) f.account_key = null;
      this.feedbackIndex.put(k(site, f.message_id), f);
      this.touched('feedback', k(site, f.message_id));
      n++;
    }
    return n;
  }

  async customFields(site: string) {
    return this.sites.get(site)?.custom_fields ?? [];
  }
  async putCustomFields(site: string, defs: CustomFieldDef[]) {
    const s = this.sites.get(site);
    if (!s) return;
    this.sites.set(site, { ...s, custom_fields: defs });
    this.touched('sites', site);
  }

  async segments(site: string) {
    return this.sites.get(site)?.segments ?? {};
  }
  async putSegment(site: string, name: string, filters: Record<string, string[]> | null) {
    const s = this.sites.get(site);
    if (!s) return;
    const segments = { ...s.segments };
    if (filters === null) delete segments[name];
    else segments[name] = filters;
    this.sites.set(site, { ...s, segments });
    this.touched('sites', site);
  }

  async getIdea(site: string, id: string) {
    return this.ideas.get(k(site, id));
  }
  async listIdeas(site: string) {
    return [...ofSite(this.ideas, site)];
  }

  async promote(p: Promotion) {
    this.putUserSync(p.user);
    this.putExternalUserSync(p.externalUser);
    for (const a of p.accounts) this.putAccountSync(a);
    if (p.pendingId !== null) this.deletePendingSync(p.site, p.pendingId);
    for (const key of p.pendingAccountKeys) this.deletePendingAccountSync(p.site, key);
    this.putFeedbackSync(p.feedback, p.idea);
  }

  async prunePending(receivedBefore: number, maxPerSite: number): Promise<number> {
    let deleted = 0;
    const bySite = new Map<string, { key: string; received_at: number }[]>();
    for (const [key, packed] of [...this.pending]) {
      const received_at = pendingReceivedAt(packed);
      if (received_at < receivedBefore) {
        this.deletePendingSync(...splitKey(key));
        deleted++;
      } else {
        const site = siteOfKey(key);
        let list = bySite.get(site);
        if (!list) bySite.set(site, (list = []));
        list.push({ key, received_at });
      }
    }
    for (const list of bySite.values()) {
      if (list.length <= maxPerSite) continue;
      list.sort((a, b) => a.received_at - b.received_at);
      for (const p of list.slice(0, list.length - maxPerSite)) this.deletePendingSync(...splitKey(p.key));
      deleted += list.length - maxPerSite;
    }
    // What pending identities said about accounts that never became visible ages out with them.
    for (const [key, packed] of [...this.pendingAccounts]) {
      if (pendingAccountUpdatedAt(packed) < receivedBefore) this.deletePendingAccountSync(...splitKey(key));
    }
    return deleted;
  }

  async counts(site: string): Promise<SiteCounts> {
    return {
      users: this.users.countOf(site),
      pending_identities: this.pending.countOf(site),
      external_users: this.externalUsers.countOf(site),
      external_accounts: this.accounts.countOf(site),
      feedback: this.feedback.countOf(site),
    };
  }
}
