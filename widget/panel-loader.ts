/**
 * Loads panel.js on demand — the first time the panel opens, or when the browser is idle — so
 * that pages that never open it pay only for widget.js. panel.js registers itself under a
 * registry symbol, which no DOM id or page global can clobber.
 */
import { DEBUG } from './log.ts';
import { PANEL_KEY, type PanelModule } from './protocol.ts';

export function panelLoader(win: Window, src: string, nonce: string): () => Promise<PanelModule> {
  let loading: Promise<PanelModule> | undefined;
  const registered = () => (win as unknown as Record<symbol, PanelModule | undefined>)[Symbol.for(PANEL_KEY)];
  return () =>
    (loading ??= new Promise<PanelModule>((resolve, reject) => {
      const ready = registered();
      if (ready) return resolve(ready);
      const doc = win.document;
      const script = doc.createElement('script');
      script.src = src;
      script.async = true;
      if (nonce) script.nonce = nonce;
      script.onload = () => {
        const mod = registered();
        if (mod) resolve(mod);
        else fail();
      };
      const fail = () => {
        loading = undefined; // let a later open try again
        reject(new Error(DEBUG ? `could not load ${src}` : src));
      };
      script.onerror = fail;
      (doc.head ?? doc.documentElement).appendChild(script);
    }));
}
