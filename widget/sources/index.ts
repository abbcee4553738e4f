/**
 * sources.js: identities read from tools the page already runs (Segment, Intercom), fetched by
 * widget.js only when the embed names one (docs/API.md#already-using-segment-or-intercom), so
 * every other page pays nothing for it. It registers itself as panel.js does (panel-loader.ts).
 */
import type { SourcesModule } from '../protocol.ts';
import { watch } from './watch.ts';

try {
  (window as unknown as Record<symbol, SourcesModule>)[Symbol.for('parley.sources')] = { watch };
} catch {
  /* never into the page */
}
