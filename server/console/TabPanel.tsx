/**
 * One tab's list: the segment bar and its toolbar, then the rows with paging, or the loading,
 * empty or error state. It loads what it shows, cut by the segment filters the list takes
 * (`query`, segments.ts); Export CSV asks the same path as CSV. The App keys it by tab, so one
 * tab's rows never reach another's table.
 */
import type { ComponentChildren } from 'preact';
import type { Download, Get } from './api.ts';
import { Pager } from './Pager.tsx';
import { Empty, Failed, Loading } from './States.tsx';
import { TABS, type TabId, type View } from './tabs.tsx';
import { ExportButton } from './Toolbar.tsx';
import { useLoad } from './useLoad.ts';

interface Props {
  tab: TabId;
  get: Get;
  download: Download;
  /** The segment filters this list takes, as a query string ('' for none). */
  query: string;
  /** The filter bar and the saved segments menu, which the App owns. */
  bar: ComponentChildren;
  page: number;
  view: View;
  /** Refresh counter: bumping it reloads the list. */
  version: number;
  onError: (e: unknown) => void;
  onPage: (page: number) => void;
}

export function TabPanel({ tab, get, download, query, bar, page, view, version, onError, onPage }: Props) {
  const current = TABS[tab];
  const path = current.path(page, view.filters) + (query ? `&${query}` : '');
  const [list, retry] = useLoad<any>(path, () => current.load(get, path), version, onError);
  const empty = query
    ? { title: `No ${current.noun} in this segment`, body: <>Remove a filter or pick another segment.</> }
    : current.empty(view.filters);
  return (
    <section id="panel" role="tabpanel" aria-labelledby={`tab-${tab}`} aria-busy={list.state === 'loading'}>
      {bar}
      <div class="toolbar">
        {current.toolbar?.(view)}
        {/* page and per_page are ignored by an export: it is the whole list (docs/API.md#export). */}
        <ExportButton download={download} path={`${path}&format=csv`} file={`parley-${tab}.csv`} />
      </div>
      {current.aside?.({ get, query, version, onError })}
      {list.state === 'error' && <Failed error={list.error} retry={retry} />}
      {list.state === 'loading' && !list.data && <Loading what={current.noun} />}
      {list.state !== 'error' &&
        list.data &&
        (current.rows(list.data).length === 0 ? (
          <Empty title={empty.title}>{empty.body}</Empty>
        ) : (
          <>
            <div class="table-wrap">{current.table(list.data, view)}</div>
            <Pager pagination={current.pagination(list.data)} noun={current.noun} onPage={onPage} />
          </>
        ))}
    </section>
  );
}
