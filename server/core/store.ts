/**
 * The Store port: what the core asks of storage. The core calls it and the engines
 * (server/engines/embedded, server/engines/postgres) implement it, so it lives here, below
 * both. Methods are asynchronous and sized the way a SQL database wants them (one row, one
 * upsert, one atomic promotion, one page), so that an engine is one more implementation of
 * this file and nothing above it moves. The semantics (what to merge, when a record becomes
 * visible) live in the rest of core/, not in the engines.
 */
import type { CustomFieldDef } from '../../shared/imports.ts';
import type { Segment } from './filters.ts';
import type { Account, ExternalUser, Feedback, Idea, Pending, PendingAccount, Site, User } from './records.ts';

/**
 * Every record of a store, in creation order (listings show records in creation order): what
 * `parley migrate-store` moves from one engine to another (engines/index.ts). The embedded engine
 * dumps its files as this; the PostgreSQL engine copies it in.
 */
export interface StoreRecords {
  sites: Site[];
  users: User[];
  external_users: ExternalUser[];
  accounts: Account[];
  ideas: Idea[];
  feedback: Feedback[];
  pending: Pending[];
  pending_accounts: PendingAccount[];
  /** [site, message id, when applied]. */
  messages: [string, string, number][];
}

/**
 * Where a keyset page starts: the sort key of the last record of the page before, as the store
 * returned it in `Page.next`. Its shape belongs to the store and the order; the HTTP layer
 * carries it opaquely, so a malformed one is answered with BadCursor.
 */
export type Cursor = readonly (string | number)[];

/** Offset paging (`page`), or keyset paging (`after`, which wins when both are set). */
export interface PageQuery {
  page: number;
  perPage: number;
  after?: Cursor;
}
/** `next` resumes after the last item, or is null when nothing follows it. */
export interface Page<T> {
  items: T[];
  total: number;
  next: Cursor | null;
}

/** A cursor this store cannot have made (or whose record is gone, where the order needs it). */
export class BadCursor extends Error {}

/** The type of one element of an order's cursor. */
export type CursorType = 'string' | 'number' | 'integer';

const fits: Record<CursorType, (v: unknown) => boolean> = {
  // No NUL: PostgreSQL text cannot hold it, and no key here contains one.
  string: (v) => typeof v === 'string' && v.length <= 1024 && !v.includes('\u0000'),
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => Number.isSafeInteger(v),
};

/** `after` when its elements have exactly the types `types`, else BadCursor. Every engine checks cursors with it. */
export function cursorOf(after: Cursor, types: readonly CursorType[]): Cursor {
  if (after.length !== types.length || after.some((v, i) => !fits[types[i]](v)))
    throw new BadCursor('this cursor does not belong to this listing');
  return after;
}

/** User listing orders; `-` means descending. The default is creation order. */
export const USER_SORTS = [
  'created_at',
  '-created_at',
  'updated_at',
  '-updated_at',
  'name',
  '-name',
  'email',
  '-email',
] as const;
export type UserSort = (typeof USER_SORTS)[number];

/** A page of visible users, filtered (all filters combine with AND). */
export interface UserQuery extends PageQuery {
  /** Substring of the name or email, case-insensitive. */
  q?: string;
  /** An external account id one of their external users belongs to. */
  account?: string;
  /** The `type` of one of their external users. */
  type?: string;
  /** A tag one of their external users carries. */
  tag?: string;
  /** Only users changed (they or their external users) after this time, in ms. */
  updatedAfter?: number;
  sort?: UserSort;
  /** Only users one of whose external users (and its account) is in the segment (core/filters.ts). */
  segment?: Segment;
}

export const ACCOUNT_SORTS = [
  'created_at',
  '-created_at',
  'name',
  '-name',
  'mrr_cents',
  '-mrr_cents',
  'ltv_cents',
  '-ltv_cents',
] as const;
export type AccountSort = (typeof ACCOUNT_SORTS)[number];
export interface AccountQuery extends PageQuery {
  sort?: AccountSort;
  /** Only accounts passing the segment's account filters. */
  segment?: Segment;
}

/** A page of a site's feedback, newest first, in a segment (core/filters.ts) when one is given. */
export interface FeedbackQuery extends PageQuery {
  segment?: Segment;
}

/** What stands behind feedback in a segment: its distinct accounts and their MRR. */
export interface SegmentTotals {
  feedback_count: number;
  accounts_count: number;
  /** Each account once, at its MRR now (as recorded with its first feedback when it has none now). */
  mrr_cents: number;
}

/** One idea's support within a segment (core/ideas.ts counts the same way, unfiltered). */
export interface SegmentIdeaStats {
  supporters_count: number;
  accounts_count: number;
  mrr_cents: number;
}

/** NPS answers of one week (Monday 00:00 UTC, in ms) in a segment. */
export interface NpsWeek {
  week: number;
  promoters: number;
  passives: number;
  detractors: number;
}

/** A page of external users in creation order, filtered (both filters combine with AND). */
export interface ExternalUserQuery extends PageQuery {
  /** Only those attached to this user. */
  userId?: string;
  /** Only those belonging to this account (its key, as listings show it as the account's `id`). */
  account?: string;
}

/** A page of one user's feedback, newest first by `created_at`, then by message id. */
export interface UserFeedbackQuery extends PageQuery {
  userId: string;
  segment?: Segment;
}

export interface SiteCounts {
  users: number;
  pending_identities: number;
  external_users: number;
  external_accounts: number;
  feedback: number;
}

/** Everything a promotion writes, applied all-or-nothing (docs/API.md#identify-semantics). */
export interface Promotion {
  site: string;
  user: User;
  externalUser: ExternalUser;
  /** Accounts created or updated with it (the first is the user's current one, if any). */
  accounts: Account[];
  /** Pending accounts those accounts absorbed. */
  pendingAccountKeys: string[];
  /** The pending identity the promotion consumes, if there was one. */
  pendingId: string | null;
  feedback: Feedback;
  idea: Idea | null;
}

export interface Store {
  listSites(): Promise<Site[]>;
  getSite(key: string): Promise<Site | undefined>;
  getSiteByAdminKeyHash(hash: string): Promise<Site | undefined>;
  putSite(site: Site): Promise<void>;

  getUser(site: string, id: string): Promise<User | undefined>;
  getUserByEmail(site: string, email: string): Promise<User | undefined>;
  putUser(user: User): Promise<void>;
  listUsers(site: string, q: UserQuery): Promise<Page<User>>;
  /** Erases one user row (the caller erases what hangs on it first, see core/erase.ts). */
  deleteUser(site: string, id: string): Promise<void>;

  getExternalUser(site: string, externalId: string): Promise<ExternalUser | undefined>;
  putExternalUser(eu: ExternalUser): Promise<void>;
  externalUsersOf(site: string, userId: string): Promise<ExternalUser[]>;
  listExternalUsers(site: string, q: ExternalUserQuery): Promise<Page<ExternalUser>>;
  deleteExternalUser(site: string, externalId: string): Promise<void>;

  getAccount(site: string, key: string): Promise<Account | undefined>;
  putAccount(account: Account): Promise<void>;
  listAccounts(site: string, q: AccountQuery): Promise<Page<Account>>;
  deleteAccount(site: string, key: string): Promise<void>;
  /** Users and feedback linked to an account. */
  accountCounts(site: string, key: string): Promise<{ users_count: number; feedback_count: number }>;

  getPending(site: string, externalId: string): Promise<Pending | undefined>;
  putPending(pending: Pending): Promise<void>;
  deletePending(site: string, externalId: string): Promise<void>;
  /** External ids of the pending identities carrying this email. */
  pendingIdsByEmail(site: string, email: string): Promise<string[]>;

  getPendingAccount(site: string, key: string): Promise<PendingAccount | undefined>;
  putPendingAccount(account: PendingAccount): Promise<void>;
  deletePendingAccount(site: string, key: string): Promise<void>;

  /** Message ids already applied (docs/API.md#identify-semantics: a duplicate is applied once). */
  hasMessage(site: string, messageId: string): Promise<boolean>;
  addMessage(site: string, messageId: string, at: number): Promise<void>;

  getFeedbackByMessage(site: string, messageId: string): Promise<Feedback | undefined>;
  /** Feedback without a promotion (an anonymous or already-visible author). */
  putFeedback(feedback: Feedback, idea: Idea | null): Promise<void>;
  /** Newest first. */
  listFeedback(site: string, q: FeedbackQuery): Promise<Page<Feedback>>;
  /** Count, distinct accounts and their MRR of the feedback in a segment. */
  segmentTotals(site: string, segment: Segment): Promise<SegmentTotals>;
  /**
   * Per idea id, its supporters (idea and support feedback) in the segment; ideas with none
   * are absent.
   */
  segmentIdeaStats(site: string, segment: Segment): Promise<Map<string, SegmentIdeaStats>>;
  /** NPS answers in the segment by week, oldest first; weeks without answers are absent. */
  npsWeeks(site: string, segment: Segment): Promise<NpsWeek[]>;
  /** One user's feedback; see UserFeedbackQuery for the order. */
  listUserFeedback(site: string, q: UserFeedbackQuery): Promise<Page<Feedback>>;
  /**
   * Points the feedback an external user gave while attached to `fromUserId` at `toUserId`
   * (an admin re-linked the external user, core/relink.ts). Returns how many.
   */
  moveFeedback(site: string, externalUserId: string, fromUserId: string, toUserId: string): Promise<number>;
  feedbackForIdea(site: string, ideaId: string): Promise<Feedback[]>;
  /**
   * Makes a user's feedback anonymous: clears its user and external user, and its account
   * when that is one of `accountKeys` (private accounts being erased). Returns how many.
   */
  detachFeedback(site: string, userId: string, accountKeys: string[]): Promise<number>;

  /** The site's custom field definitions (docs/API.md#http-api). */
  customFields(site: string): Promise<CustomFieldDef[]>;
  putCustomFields(site: string, defs: CustomFieldDef[]): Promise<void>;

  /** The site's saved segments, name → filters (docs/API.md#segments). */
  segments(site: string): Promise<Record<string, Record<string, string[]>>>;
  /** Saves a segment under `name`, or deletes it when `filters` is null. */
  putSegment(site: string, name: string, filters: Record<string, string[]> | null): Promise<void>;

  getIdea(site: string, id: string): Promise<Idea | undefined>;
  listIdeas(site: string): Promise<Idea[]>;

  /** Writes the user, external user, account and feedback and drops the pending identity, atomically. */
  promote(p: Promotion): Promise<void>;

  counts(site: string): Promise<SiteCounts>;

  /**
   * Retention of pending identities (personal data of people who never interacted): deletes
   * those last received before `receivedBefore`, then, per site, the oldest beyond `maxPerSite`;
   * pending accounts not updated since `receivedBefore` go too. Returns how many identities
   * were deleted.
   */
  prunePending(receivedBefore: number, maxPerSite: number): Promise<number>;
}
