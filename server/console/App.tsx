/**
 * The admin console's top: App holds the admin key (kept in sessionStorage, so it dies with
 * the tab), Console the open tab, pages and filters. The tables, toolbars and states below take
 * props and report through callbacks; only TabPanel loads data, and KeyForm keeps the text
 * being typed.
 */
import { useMemo, useState } from 'preact/hooks';
import { ApiError, createApi, explain, type Get } from './api.ts';
import { KeyForm } from './KeyForm.tsx';
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

const tabFromHash = (): TabId => {
  const id = location.hash.slice(1) as TabId;
  return TAB_IDS.includes(id) ? id : 'feedback';
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

  const get = useMemo(() => (key ? createApi(key) : null), [key]);
  if (!get) return <KeyForm error={keyError} checking={checking} onSubmit={(k) => void signIn(k)} />;
  return <Console get={get} onSignOut={signOut} />;
}

function Console({ get, onSignOut }: { get: Get; onSignOut: (reason?: string) => void }) {
  const [tab, setTab] = useState<TabId>(tabFromHash);
  const [pages, setPages] = useState<Record<TabId, number>>({ feedback: 1, ideas: 1, users: 1, accounts: 1 });
  const [filters, setFilters] = useState<Filters>(DEFAULT_FILTERS);
  const [version, setVersion] = useState(0);
  // A key revoked mid-session sends the person back to the key form with the reason.
  const onError = (e: unknown) => {
    if (e instanceof ApiError && e.status === 401) onSignOut(explain(e));
  };
  const [stats] = useLoad<Stats>('/stats', () => get('/stats'), version, onError);

  const open = (id: TabId) => {
    setTab(id);
    history.replaceState(null, '', `#${id}`);
  };
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
            aria-selected={tab === id}
            aria-controls="panel"
            tabIndex={tab === id ? 0 : -1}
            onClick={() => open(id)}
          >
            {TABS[id].label}
          </button>
        ))}
      </div>
      {/* Keyed by tab: another tab's rows are never handed to this tab's table. */}
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
    </div>
  );
}
