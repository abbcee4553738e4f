/**
 * How stored records look in API responses (docs/API.md#http-api): integrator ids as `external_id`,
 * links as `links`, money as integer cents, times as ISO-8601 strings.
 */
import {
  accountKeysOf,
  type Account,
  type ExternalUser,
  type Feedback,
  type Idea,
  type User,
} from '../core/records.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const isoSeconds = (s: unknown) => (typeof s === 'number' ? new Date(s * 1000).toISOString() : null);

function customFields(f: Record<string, unknown>) {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(f)) if (key.startsWith('cf_')) out[key] = f[key];
  return out;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const num = (v: unknown) => (typeof v === 'number' ? v : null);

export function presentUser(u: User, externalIds: string[]) {
  return {
    id: u.id,
    email: u.email,
    name: u.name ?? null,
    created_at: iso(u.created_at),
    updated_at: iso(u.updated_at),
    links: { external_users: externalIds },
  };
}

export function presentExternalUser(eu: ExternalUser, account: Account | undefined) {
  const f = eu.profile.f;
  return {
    external_id: eu.external_id,
    email: str(f.email),
    name: str(f.name),
    type: str(f.type),
    external_created_at: isoSeconds(f.created_at),
    app_version: str(f.app_version),
    location: (f.location as object | undefined) ?? null,
    timezone: str(f.timezone),
    locale: str(f.locale),
    custom_fields: customFields(f),
    tags: Array.isArray(f.tags) ? (f.tags as string[]) : [],
    created_at: iso(eu.created_at),
    updated_at: iso(eu.updated_at),
    // `external_account` is the account the person acts in; `external_accounts` every linked one.
    links: {
      user: eu.user_id,
      external_account: account ? (account.external_id ?? account.key) : null,
      external_accounts: accountKeysOf(eu),
    },
  };
}

export function presentAccount(a: Account, counts?: { users_count: number; feedback_count: number }) {
  const f = a.profile.f;
  return {
    id: a.key,
    external_id: a.external_id,
    name: str(f.name),
    plan: str(f.plan),
    mrr_cents: num(f.mrr_cents),
    ltv_cents: num(f.ltv_cents),
    external_created_at: isoSeconds(f.created_at),
    custom_fields: customFields(f),
    ...(counts ?? {}),
    created_at: iso(a.created_at),
    updated_at: iso(a.updated_at),
  };
}

/** Feedback as the widget sees it after sending: nothing about other people. */
export function presentPublicFeedback(f: Feedback) {
  return {
    id: f.id,
    message_id: f.message_id,
    kind: f.kind,
    title: f.title ?? null,
    body: f.body ?? null,
    idea_id: f.idea_id ?? null,
    score: f.score ?? null,
    created_at: iso(f.created_at),
  };
}

export function presentFeedback(
  f: Feedback,
  user: User | undefined,
  eu: ExternalUser | undefined,
  account: Account | undefined,
) {
  return {
    ...presentPublicFeedback(f),
    page_url: f.page_url ?? null,
    source: f.source ?? null,
    mrr_cents_at: f.mrr_cents_at,
    user: user ? { id: user.id, email: user.email, name: user.name ?? null } : null,
    external_user: eu
      ? {
          external_id: eu.external_id,
          name: str(eu.profile.f.name),
          email: str(eu.profile.f.email),
          type: str(eu.profile.f.type),
        }
      : null,
    external_account: account
      ? {
          id: account.key,
          external_id: account.external_id,
          name: str(account.profile.f.name),
          plan: str(account.profile.f.plan),
          mrr_cents: num(account.profile.f.mrr_cents),
        }
      : null,
  };
}

export function presentIdea(i: Idea, stats: { supporters_count: number; accounts_count: number; mrr_cents: number }) {
  return { id: i.id, title: i.title, body: i.body ?? null, created_at: iso(i.created_at), ...stats };
}
