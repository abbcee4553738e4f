/**
 * One tab's list: its toolbar, then the rows with paging, or the loading, empty or error state.
 * It loads what it shows; the App keys it by tab, so one tab's rows never reach another's table.
 */
import type { Get } from './api.ts';
import { Pager } from './Pager.tsx';
import { Empty, Failed, Loading } from './States.tsx';
import { TABS, type TabId, type View } from './tabs.tsx';
import { useLoad } from './useLoad.ts';

interface Props {
  tab: TabId;
  get: Get;
  page: number;
  view: View;
  /** Refresh counter: bumping it reloads the list. */
  version: number;
  onError: (e: unknown) => void;
  onPage: (page: number) => void;
}

export function TabPanel({ tab, get, page, view, version, onError, onPage }: Props) {
  const current = TABS[tab];
  const path = current.path(page, view.filters);
  const [list, retry] = useLoad<any>(path, () => current.load(get, path), version, onError);
  const empty = current.empty(view.filters);
  return (
    <section id="panel" role="tabpanel" aria-labelledby={`tab-${tab}`} aria-busy={list.state === 'loading'}>
      {current.toolbar && <div class="toolbar">{current.toolbar(view)}</div>}
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
