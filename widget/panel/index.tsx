/**
 * panel.js: the launcher and feedback panel, fetched by widget.js when the browser is idle or
 * on first open. It registers itself under a registry symbol that no page global can clobber.
 */
import { PANEL_KEY, type PanelModule } from '../protocol.ts';
import { mount } from './host.ts';

const registry = window as unknown as Record<symbol, PanelModule>;
registry[Symbol.for(PANEL_KEY)] = { mount };
