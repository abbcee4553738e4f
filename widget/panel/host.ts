/**
 * Mounts the widget's footprint on the page: one `<parley-widget>` element whose open shadow
 * root holds the launcher button and the slot the Preact panel renders into. It owns the
 * appearance settings and the open/closed state; the panel itself only takes props.
 */
import { h, render } from 'preact';
import type { MountOptions, PanelMode, Ui } from '../protocol.ts';
import { Panel } from './Panel.tsx';
import { DEFAULTS, mergeSettings, resolveMode } from './settings.ts';
import { adoptStyles, CSS } from './styles.ts';

export function mount(opts: MountOptions): Ui {
  const { doc, log } = opts;
  // A valid custom element name needs no definition to host a shadow root, and an unknown
  // tag matches none of the page's element selectors (div{display:none} and the like).
  const host = doc.createElement('parley-widget');
  const root = host.attachShadow({ mode: 'open' });
  adoptStyles(root, CSS, opts.nonce);
  const launcher = doc.createElement('button');
  launcher.type = 'button';
  launcher.className = 'launcher';
  launcher.setAttribute('aria-haspopup', 'dialog');
  const slot = doc.createElement('div');
  root.append(launcher, slot);

  let settings = DEFAULTS;
  let isOpen = false;
  let opener: Element | null = null;

  const expanded = (value: boolean) => {
    isOpen = value;
    launcher.setAttribute('aria-expanded', String(value));
  };

  const close = () => {
    if (!isOpen) return;
    render(null, slot);
    expanded(false);
    // Give focus back where it was, so keyboard users are not dropped at the top of the page.
    const back = launcher.hidden ? opener : launcher;
    if (back && 'focus' in back) (back as HTMLElement).focus();
  };

  const open = (arg?: unknown) => {
    const mode: PanelMode = resolveMode(arg, settings.mode);
    if (!isOpen) opener = doc.activeElement;
    render(null, slot); // a new mode starts a fresh form
    render(h(Panel, opts.props(mode, close)), slot);
    expanded(true);
  };

  const apply = () => {
    host.dataset.position = settings.position;
    host.style.setProperty('--parley-accent', settings.color);
    launcher.textContent = settings.text;
    launcher.hidden = !settings.launcher;
  };

  launcher.addEventListener('click', () => (isOpen ? close() : open()));
  expanded(false);
  apply();
  (doc.body ?? doc.documentElement).appendChild(host);

  return {
    open,
    close,
    set(patch) {
      const merged = mergeSettings(settings, patch);
      merged.refused.forEach((key) => log.warn(`setting "${key}" has an invalid value; ignored`));
      settings = merged.settings;
      apply();
    },
  };
}
