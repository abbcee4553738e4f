/**
 * The admin console's top: App holds the admin key (kept in sessionStorage, so it dies with
 * the tab), Console the route (routes.ts: a list, a person, the Import page), pages and
 * filters. The tables, toolbars and states below take props and report through callbacks;
 * TabPanel, the person's page and the Import page load what they show, and KeyForm keeps the
 * text being typed.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, createApi, createPost, explain, type Get, type Post } from './api.ts';
import { ImportPage } from './ImportPage.tsx';
import { KeyForm } from './KeyForm.tsx';
import { PendingPerson, PersonPage } from './PersonPage.tsx';
import { lookupRoute, parseRoute, routeHash, type Route } from './routes.ts';
import { StatsBar } from './StatsBar.tsx';
import { TabPanel } from './TabPanel.tsx';
import { DEFAULT_FILTERS, FILTER_TAB, TAB_IDS, TABS, type Filters, type TabId, type View } from './tabs.tsx';
import type { Stats } from './types.ts';
import { useLoad } from './useLoad.ts';

const KEY = 'parley:admin-key';

/** sessionStorage can throw (blocked storage); the console then works until the tab reloads. */
const session = {
  get: () => {
    try {
      return sessionStorage.getItem(KEY);
    } catch {
      return null;
    }
  },
  set: (v: string) => {
    try {
      sessionStorage.setItem(KEY, v);
    } catch {
      /* kept in memory only */
    }
  },
  clear: () => {
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      /* nothing stored */
    }
  },
};

export function App() {
  const [key, setKey] = useState<string | null>(session.get);
  const [keyError, setKeyError] = useState('');
  const [checking, setChecking] = useState(false);

  const signIn = async (candidate: string) => {
    setChecking(true);
    try {
      await createApi(candidate)('/stats');
      session.set(candidate);
      setKeyError('');
      setKey(candidate);
    } catch (e) {
      setKeyError(explain(e));
    } finally {
      setChecking(false);
    }
  };
  const signOut = (reason = '') => {
    session.clear();
    setKeyError(reason);
    setKey(null);
  };

  const api = useMemo(() => (key ? { get: createApi(key), post: createPost(key) } : null), [key]);
  if (!api) return <KeyForm error={keyError} checking={checking} onSubmit={(k) => void signIn(k)} />;
  return <Console get={api.get} post={api.post} onSignOut={signOut} />;
}

/** "Open a person": a user id, an email or an external id. */
function Lookup() {
  const [text, setText] = useState('');
  return (
    <form
      class="lookup"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        const r = lookupRoute(text);
        if (r) location.hash = routeHash(r);
      }}
    >
      <input
        aria-label="Open a person"
        placeholder="User id, email or external id"
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Open</button>
    </form>
  );
}

function Console({ get, post, onSignOut }: { get: Get; post: Post; onSignOut: (reason?: string) => void }) {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  // The tab a list route shows; a person or the Import page keeps the last list's tab.
  const [tab, setTab] = useState<TabId>(route.page === 'tab' ? route.tab : 'feedback');
  useEffect(() => {
    const onHash = () => {
      const r = parseRoute(location.hash);
      setRoute(r);
      if (r.page === 'tab') setTab(r.tab);
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const [pages, setPages] = useState<Record<TabId, number>>({ feedback: 1, ideas: 1, users: 1, accounts: 1 });
  const [filters, setFilters] = useState<Filters>(DEFAULT_FILTERS);
  const [version, setVersion] = useState(0);
  // A key revoked mid-session sends the person back to the key form with the reason.
  const onError = (e: unknown) => {
    if (e instanceof ApiError && e.status === 401) onSignOut(explain(e));
  };
  const [stats] = useLoad<Stats>('/stats', () => get('/stats'), version, onError);

  // Switching lists replaces the history entry; leaving a person or the Import page for a list
  // pushes one, so Back returns to that page.
  const open = (id: TabId) => {
    if (route.page !== 'tab') {
      location.hash = routeHash({ page: 'tab', tab: id });
      return;
    }
    setTab(id);
    setRoute({ page: 'tab', tab: id });
    history.replaceState(null, '', `#${id}`);
  };
  const changed = () => setVersion((v) => v + 1);
  const pageProps = { get, post, version, onError, onChanged: changed };
  // The tab pattern: one tab stop, arrow keys move between tabs (WAI-ARIA Authoring Practices).
  const onTabKey = (e: KeyboardEvent) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const next = TAB_IDS[(TAB_IDS.indexOf(tab) + step + TAB_IDS.length) % TAB_IDS.length];
    open(next);
    document.getElementById(`tab-${next}`)?.focus();
  };
  const view: View = {
    filters,
    openTab: (id) => open(id),
    // A new filter or order starts its list from the first page.
    onFilter: (patch) => {
      setFilters((f) => ({ ...f, ...patch }));
      setPages((p) => ({
        ...p,
        ...Object.fromEntries(Object.keys(patch).map((k) => [FILTER_TAB[k as keyof Filters], 1])),
      }));
    },
  };

  return (
    <div class="console">
      <header class="bar">
        <h1>
          <span class="logo" aria-hidden="true">
            ◆
          </span>{' '}
          Parley admin
        </h1>
        <div class="bar-actions">
          <Lookup />
          <a class="button" href="#import" aria-current={route.page === 'import' ? 'page' : undefined}>
            Import
          </a>
          <button type="button" onClick={() => setVersion((v) => v + 1)}>
            Refresh
          </button>
          <button type="button" onClick={() => onSignOut()}>
            Forget key
          </button>
        </div>
      </header>
      <StatsBar stats={stats} />
      <div class="tabs" role="tablist" aria-label="Lists" onKeyDown={onTabKey}>
        {TAB_IDS.map((id) => (
          <button
            type="button"
            role="tab"
            id={`tab-${id}`}
            key={id}
            aria-selected={route.page === 'tab' && tab === id}
            aria-controls="panel"
            tabIndex={tab === id ? 0 : -1}
            onClick={() => open(id)}
          >
            {TABS[id].label}
          </button>
        ))}
      </div>
      {route.page === 'user' && <PersonPage key={route.id} id={route.id} {...pageProps} />}
      {route.page === 'person' && (
        <PendingPerson key={`${route.by}:${route.value}`} by={route.by} value={route.value} {...pageProps} />
      )}
      {route.page === 'import' && <ImportPage {...pageProps} />}
      {/* Keyed by tab: another tab's rows are never handed to this tab's table. */}
      {route.page === 'tab' && (
        <TabPanel
          key={tab}
          tab={tab}
          get={get}
          page={pages[tab]}
          view={view}
          version={version}
          onError={onError}
          onPage={(p) => setPages((all) => ({ ...all, [tab]: p }))}
        />
      )}
    </div>
  );
}
