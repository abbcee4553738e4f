/**
 * sources.js's one entry point: reads which tools the embed names (`data-identify-from`,
 * `identify_from`) and its revenue trait (`data-revenue-trait`, `revenue_trait`), follows each
 * tool, and identifies whoever they describe whenever that changes: the first tool in the
 * embed's order that knows someone with an email wins; nobody is a logout
 * (docs/API.md#already-using-segment-or-intercom). Never throws.
 */
import type { SourceClient } from '../protocol.ts';
import type { Handlers } from '../queue.ts';
import { DEFAULT_REVENUE, fromIntercom, fromSegment, parseRevenue, type RevenueTrait } from './map.ts';
import { followIntercom } from './intercom.ts';
import { object, plain, type Data } from './plain.ts';
import { followSegment } from './segment.ts';

export const SOURCES = ['segment', 'intercom'] as const;
type Source = (typeof SOURCES)[number];

/** The embed's sources, in its order, and revenue trait; the script tag's attributes win over JSON blocks (as in config.ts). */
export function readEmbed(doc: Document): { from: Source[]; revenue: readonly RevenueTrait[] } {
  let from: unknown;
  let revenue: unknown;
  doc.querySelectorAll('script[type="application/json"][data-parley]').forEach((el) => {
    let block: Data = {};
    try {
      block = object(plain(JSON.parse(el.textContent ?? '')));
    } catch {
      /* config.ts already ignores a bad block */
    }
    from = block.identify_from ?? from;
    revenue = block.revenue_trait ?? revenue;
  });
  const tag = doc.querySelector('script[data-identify-from]') as HTMLScriptElement | null;
  if (tag) from = tag.dataset.identifyFrom;
  const rev = doc.querySelector('script[data-revenue-trait]') as HTMLScriptElement | null;
  if (rev) revenue = rev.dataset.revenueTrait;
  const names = typeof from === 'string' ? from.split(/[\s,]+/) : Array.isArray(from) ? from : [];
  return {
    from: SOURCES.filter((s) => names.includes(s)).sort((a, b) => names.indexOf(a) - names.indexOf(b)),
    revenue: revenue === undefined ? DEFAULT_REVENUE : parseRevenue(revenue),
  };
}

export function watch(win: Window, client: SourceClient, handlers: Handlers): void {
  try {
    const { from, revenue } = readEmbed(win.document);
    // An explicit identify wins until the page logs out. Before sources.js arrived only the
    // page's own commands could identify anyone; from now on its commands pass through here.
    let explicit = client.identity() !== null;
    const { identify, logout } = handlers;
    handlers.identify = (raw: unknown) => {
      explicit = true;
      identify(raw);
    };
    handlers.logout = () => {
      explicit = false;
      logout();
    };
    const found: Partial<Record<Source, Data | null>> = {};
    let last = 'null'; // nobody, until a tool knows someone
    let ready = false;
    const decide = () => {
      if (!ready) return;
      const winner = from.map((s) => found[s]).find((i) => i) ?? null;
      const text = JSON.stringify(winner);
      if (text === last) return;
      last = text;
      if (explicit) return;
      // Each person replaces the last: nobody is a logout, so no one stays behind.
      client.logout();
      if (winner) client.identify(winner);
    };
    const changed = (source: Source, identity: Data | null) => {
      found[source] = identity;
      decide();
    };
    for (const source of from) {
      try {
        if (source === 'segment') followSegment(win, (state) => changed(source, fromSegment(state, revenue)));
        else followIntercom(win, (settings) => changed(source, fromIntercom(settings, revenue)));
      } catch {
        /* one tool's failure leaves the other */
      }
    }
    ready = true; // every tool has reported what it knows at load: decide once for all of them
    decide();
  } catch {
    /* nothing sources.js does may reach the page */
  }
}
