/**
 * The one stylesheet of the widget's shadow root. Isolation rules (docs/DESIGN.md#measured-facts):
 * `:host{all:initial}` stops inherited host styles, `!important` inside the shadow root beats
 * the page's `!important` on the host element, and sizes are px because host `rem` leaks in.
 * The accent colour arrives as a custom property set through the CSSOM, which CSP allows.
 */
export const CSS = `
:host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483646!important;bottom:16px!important;right:16px!important;font:14px/20px system-ui,sans-serif!important;color:#111827!important}
:host([data-position$=left]){left:16px!important;right:auto!important}
:host([data-position^=top]){top:16px!important;bottom:auto!important}
*{box-sizing:border-box;font:inherit;color:inherit;margin:0}
[hidden]{display:none!important}
button{cursor:pointer;border:0;border-radius:6px;padding:8px 14px;background:#e5e7eb}
button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid var(--parley-accent,#4f46e5);outline-offset:1px}
.launcher,.primary{background:var(--parley-accent,#4f46e5);color:#fff;font-weight:600}
.launcher{display:block;border-radius:20px;padding:10px 18px;box-shadow:0 4px 12px rgba(0,0,0,.2)}
.dialog{position:fixed;right:16px;bottom:72px;width:360px;max-width:calc(100vw - 32px);max-height:calc(100vh - 96px);overflow:auto;background:#fff;border-radius:12px;box-shadow:0 12px 40px rgba(0,0,0,.25);padding:16px;display:flex;flex-direction:column;gap:12px}
:host([data-position$=left]) .dialog{left:16px;right:auto}
:host([data-position^=top]) .dialog{top:72px;bottom:auto}
.head{display:flex;justify-content:space-between;align-items:center}
h2{font-size:16px;font-weight:700}
.close{background:none;padding:4px 8px;font-size:18px}
.tabs{display:flex;gap:6px}
.tabs button[aria-pressed=true]{background:#111827;color:#fff}
form,fieldset{display:flex;flex-direction:column;gap:10px;border:0;padding:0}
label{display:flex;flex-direction:column;gap:4px;font-weight:600}
input,textarea{font-weight:400;border:1px solid #9ca3af;border-radius:6px;padding:8px;background:#fff;width:100%}
textarea{min-height:80px;resize:vertical}
legend{font-weight:600;margin-bottom:6px}
.scores{display:flex;flex-wrap:wrap;gap:4px}
.scores label{flex-direction:row;align-items:center;gap:2px;font-weight:400}
.scores input{width:auto}
ul{list-style:none;padding:0;display:flex;flex-direction:column;gap:6px}
li{display:flex;justify-content:space-between;align-items:center;gap:8px}
.status{min-height:20px}
`;

/**
 * Adds the stylesheet to a shadow root as a constructable stylesheet, which CSP `style-src`
 * does not police; where that is unsupported, falls back to a `<style>` with the page's nonce.
 */
export function adoptStyles(root: ShadowRoot, css: string, nonce: string): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return;
  } catch {
    /* older engines: fall through to a <style> element */
  }
  const style = root.ownerDocument.createElement('style');
  if (nonce) style.nonce = nonce;
  style.textContent = css;
  root.appendChild(style);
}
