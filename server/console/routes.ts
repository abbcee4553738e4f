/**
 * Where the console is, as the URL hash: a list (`#users`), a list cut by segment filters
 * (`#feedback?account.cf_region=EU&segment=eu-enterprise`, segments.ts), one person (`#user/u_3f...`), a
 * person not visible yet, named by email or external id (`#person/email/ann@acme.test`), or the
 * Import page (`#import`). The hash makes a person's page linkable, and because opening one
 * pushes a history entry, Back returns to the list it was opened from. Pure.
 */

/** The four lists, in tab order (tabs.tsx describes each). Here, so routes import nothing. */
export type TabId = 'feedback' | 'ideas' | 'users' | 'accounts';
export const TAB_IDS: TabId[] = ['feedback', 'ideas', 'users', 'accounts'];

/**
 * Segment filters: query parameter → values, the shape a saved segment stores; a repeated
 * parameter means "any of", `segment` names a saved one (segments.ts: what the bar offers).
 */
export type SegFilters = Record<string, string[]>;

/** The filters as the hash's query part (`account.plan=Enterprise&segment=eu`), in a stable order. */
export function filtersQuery(f: SegFilters): string {
  const q = new URLSearchParams();
  for (const param of Object.keys(f).sort()) for (const v of f[param]) q.append(param, v);
  return q.toString();
}

/** The filters a hash's query part names; empty names and values, and repeats, are dropped. */
export function parseFilters(query: string): SegFilters {
  const out: SegFilters = {};
  for (const [param, v] of new URLSearchParams(query)) {
    if (!param || !v || out[param]?.includes(v)) continue;
    out[param] = [...(out[param] ?? []), v];
  }
  return out;
}

export type Route =
  /** `filters` only when some are set, so a plain list's route stays `{page, tab}`. */
  | { page: 'tab'; tab: TabId; filters?: SegFilters }
  | { page: 'user'; id: string }
  | { page: 'person'; by: 'email' | 'external_id'; value: string }
  | { page: 'import' };

const decode = (s: string): string | null => {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
};

/** The route a hash names; anything unknown is the first list. */
export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const [list, query = ''] = h.split('?', 2);
  if (TAB_IDS.includes(list as TabId)) {
    const filters = parseFilters(query);
    return Object.keys(filters).length
      ? { page: 'tab', tab: list as TabId, filters }
      : { page: 'tab', tab: list as TabId };
  }
  if (h === 'import') return { page: 'import' };
  const user = /^user\/(.+)$/.exec(h);
  const id = user && decode(user[1]);
  if (id) return { page: 'user', id };
  const person = /^person\/(email|external_id)\/(.+)$/.exec(h);
  const value = person && decode(person[2]);
  if (person && value) return { page: 'person', by: person[1] as 'email' | 'external_id', value };
  return { page: 'tab', tab: 'feedback' };
}

export function routeHash(r: Route): string {
  switch (r.page) {
    case 'tab': {
      const q = r.filters ? filtersQuery(r.filters) : '';
      return q ? `#${r.tab}?${q}` : `#${r.tab}`;
    }
    case 'import':
      return '#import';
    case 'user':
      return `#user/${encodeURIComponent(r.id)}`;
    case 'person':
      return `#person/${r.by}/${encodeURIComponent(r.value)}`;
  }
}

/** A link to one person's page. */
export const userHref = (id: string) => routeHash({ page: 'user', id });

/**
 * What "Open a person" makes of what was typed: a Parley user id (`u_...`) opens the user, an
 * address their page by email, anything else their page by external id.
 */
export function lookupRoute(text: string): Route | null {
  const v = text.trim();
  if (!v) return null;
  if (/^u_[A-Za-z0-9_-]+$/.test(v)) return { page: 'user', id: v };
  if (v.includes('@')) return { page: 'person', by: 'email', value: v.toLowerCase() };
  return { page: 'person', by: 'external_id', value: v };
}
