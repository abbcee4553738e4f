/**
 * widget.js (and widget.debug.js, the same with its console messages): the script tag
 * customers embed. Everything happens in `boot`; this file only makes sure nothing it does can
 * throw into the host page.
 */
import { boot } from './boot.ts';

try {
  boot({ win: window });
} catch {
  // Deliberately silent: the logger may not exist yet, and the host page must never see us fail.
}
