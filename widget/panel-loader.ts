/**
 * Loads a lazily fetched chunk beside widget.js on demand — panel.js the first time the panel
 * opens or when the browser is idle, sources.js when the site reads identities from the page
 * (docs/API.md#embedding) — so that pages that never need one pay only for widget.js. A chunk
 * registers itself under a registry symbol, `Symbol.for('parley.' + name)`, which no DOM id or
 * page global can clobber.
 */

export function chunkLoader<T>(win: Window, name: string, base: string, nonce: string): () => Promise<T> {
  let loading: Promise<T> | undefined;
  const registered = () => (win as unknown as Record<symbol, T | undefined>)[Symbol.for('parley.' + name)];
  return () =>
    (loading ??= new Promise<T>((resolve, reject) => {
      const ready = registered();
      if (ready) return resolve(ready);
      const doc = win.document;
      const script = doc.createElement('script');
      const src = new URL(name + '.js', base).href;
      script.src = src;
      script.async = true;
      if (nonce) script.nonce = nonce;
      script.onload = () => {
        const mod = registered();
        if (mod) resolve(mod);
        else fail();
      };
      const fail = () => {
        loading = undefined; // let a later call try again
        reject(new Error(__DEBUG__ ? `could not load ${src}` : src));
      };
      script.onerror = fail;
      (doc.head ?? doc.documentElement).appendChild(script);
    }));
}
