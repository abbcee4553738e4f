/**
 * The admin console's top: App holds the admin key (kept in sessionStorage, so it dies with
 * the tab), Console the route (routes.ts: a list, a person, the Import page), pages and
 * filters. The segment filters live in the URL hash with the list (routes.ts), so a filtered
 * view reloads and shares as a link; every list sends the ones it takes (segments.ts). The tables, toolbars and states below take props and report through callbacks;
 * TabPanel, the person's page and the Import page load what they show, and KeyForm keeps the
 * text being typed.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  ApiError,
  createApi,
  createDownload,
  createPost,
  createSend,
  explain,
  type Download,
  type Get,
  type Post,
  type Send,
} from './api.ts';
import { FilterBar } from './FilterBar.tsx';
import { SegmentMenu, type SavedSegment } from './SegmentMenu.tsx';
import { filtersToSave, queryFor, type CustomFieldDef, type SegFilters } from './segments.ts';
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

  const api = useMemo(
    () =>
      key ? { get: createApi(key), post: createPost(key), send: createSend(key), download: createDownload(key) } : null,
    [key],
  );
  if (!api) return <KeyForm error={keyError} checking={checking} onSubmit={(k) => void signIn(k)} />;
  return <Console {...api} onSignOut={signOut} />;
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

interface ConsoleProps {
  get: Get;
  post: Post;
  send: Send;
  download: Download;
  onSignOut: (reason?: string) => void;
}

function Console({ get, post, send, download, onSignOut }: ConsoleProps) {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  // The tab a list route shows; a person or the Import page keeps the last list's tab and filters.
  const [tab, setTab] = useState<TabId>(route.page === 'tab' ? route.tab : 'feedback');
  const [seg, setSeg] = useState<SegFilters>(route.page === 'tab' ? (route.filters ?? {}) : {});
  useEffect(() => {
    const onHash = () => {
      const r = parseRoute(location.hash);
      setRoute(r);
      if (r.page === 'tab') {
        setTab(r.tab);
        setSeg(r.filters ?? {});
      }
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
  const [defs] = useLoad<{ custom_fields: CustomFieldDef[] }>(
    '/custom_fields',
    () => get('/custom_fields'),
    version,
    onError,
  );
  const [segVersion, setSegVersion] = useState(0);
  const [saved] = useLoad<{ segments: SavedSegment[] }>(
    '/segments',
    () => get('/segments'),
    version + segVersion,
    onError,
  );

  // Switching lists replaces the history entry; leaving a person or the Import page for a list
  // pushes one, so Back returns to that page.
  // The filters go along: one segment, seen through every list.
  const listRoute = (id: TabId, f: SegFilters): Route =>
    Object.keys(f).length ? { page: 'tab', tab: id, filters: f } : { page: 'tab', tab: id };
  const open = (id: TabId) => {
    if (route.page !== 'tab') {
      location.hash = routeHash(listRoute(id, seg));
      return;
    }
    setTab(id);
    setRoute(listRoute(id, seg));
    history.replaceState(null, '', routeHash(listRoute(id, seg)));
  };
  // New filters replace the history entry (as switching lists does) and start every list from
  // its first page.
  const filter = (f: SegFilters) => {
    setSeg(f);
    setRoute(listRoute(tab, f));
    history.replaceState(null, '', routeHash(listRoute(tab, f)));
    setPages({ feedback: 1, ideas: 1, users: 1, accounts: 1 });
  };
  const segments = saved.data?.segments;
  const current = seg.segment?.[0];
  const bar = (
    <div class="segment-bar">
      <FilterBar tab={tab} filters={seg} defs={defs.data?.custom_fields ?? []} onChange={filter} />
      <SegmentMenu
        segments={segments}
        loadError={saved.state === 'error' ? explain(saved.error) : ''}
        current={current}
        canSave={Object.keys(seg).length > 0}
        onPick={(name) => filter({ segment: [name] })}
        onSave={async (name) => {
          const filters = filtersToSave(seg, segments?.find((s) => s.name === current)?.filters);
          await send('PUT', `/segments/${encodeURIComponent(name)}`, { filters });
          setSegVersion((v) => v + 1);
          filter({ segment: [name] });
        }}
        onDelete={async (name) => {
          await send('DELETE', `/segments/${encodeURIComponent(name)}`);
          setSegVersion((v) => v + 1);
          if (name === current) filter(filtersToSave(seg, segments?.find((s) => s.name === name)?.filters));
        }}
      />
    </div>
  );
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
          download={download}
          query={queryFor(tab, seg)}
          bar={bar}
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
