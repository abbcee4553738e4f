/**
 * The admin API's response shapes as the console reads them (docs/API.md#http-api). Only the fields the
 * console shows are listed; the API may send more.
 */

export interface Pagination {
  page: number;
  per_page: number;
  total_pages: number;
  total_records: number;
}

export interface Location {
  country?: string | null;
  region?: string | null;
  city?: string | null;
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  created_at: string;
  updated_at: string;
  links: { external_users: string[] };
}

export interface ExternalUser {
  external_id: string;
  email: string | null;
  name: string | null;
  type: string | null;
  external_created_at: string | null;
  app_version: string | null;
  location: Location | null;
  tags?: string[];
  custom_fields?: Record<string, unknown>;
  links: { user: string | null; external_account: string | null };
}

export interface Account {
  id: string;
  external_id: string | null;
  name: string | null;
  plan: string | null;
  mrr_cents: number | null;
  ltv_cents: number | null;
  users_count?: number;
  feedback_count?: number;
  external_created_at?: string | null;
  custom_fields?: Record<string, unknown>;
  created_at: string;
}

export interface Feedback {
  id: string;
  kind: 'idea' | 'support' | 'comment' | 'nps';
  title: string | null;
  body: string | null;
  idea_id: string | null;
  score: number | null;
  created_at: string;
  page_url: string | null;
  /** Where admin-recorded feedback came from (`support`, `sales-call`); null from the widget. */
  source?: string | null;
  mrr_cents_at: number | null;
  user: { id: string; email: string; name: string | null } | null;
  external_user: { external_id: string; name: string | null; email: string | null; type: string | null } | null;
  external_account: {
    id: string;
    external_id: string | null;
    name: string | null;
    plan: string | null;
    mrr_cents: number | null;
  } | null;
}

export interface Idea {
  id: string;
  title: string;
  body: string | null;
  created_at: string;
  supporters_count: number;
  accounts_count: number;
  mrr_cents: number;
}

export interface Stats {
  users: number;
  pending_identities: number;
  external_users: number;
  external_accounts: number;
  feedback: number;
  queue: { depth: number };
}

export interface UsersPage {
  users: User[];
  external_users?: ExternalUser[];
  external_accounts?: Account[];
  pagination: Pagination;
}
export interface AccountsPage {
  external_accounts: Account[];
  pagination: Pagination;
}
export interface FeedbackPage {
  feedback: Feedback[];
  pagination: Pagination;
  /** With segment filters: what stands behind the whole segment (docs/API.md#segments). */
  segment?: { feedback_count: number; accounts_count: number; mrr_cents: number };
}
export interface IdeasPage {
  ideas: Idea[];
  pagination: Pagination;
}

/** Where one stored field came from (docs/API.md#get-apiv2adminusersid). */
export interface FieldOrigin {
  source: 'admin_api' | 'identity_token' | 'user_hash' | 'unproven' | string;
  at: string;
  message_id: string | null;
}
export type Provenance = Record<string, FieldOrigin>;

/** `GET /users/:id`: one person with their records, where each field came from, and their feedback. */
export interface Person {
  user: User;
  external_users: (ExternalUser & { provenance: Provenance })[];
  external_accounts: (Account & { provenance: Provenance })[];
  feedback: Feedback[];
  pagination: Pagination;
}

/** A custom field definition (`GET /custom_fields`). */
export interface CustomField {
  key: string;
  object: 'user' | 'account';
  type: string;
  options?: string[];
}
