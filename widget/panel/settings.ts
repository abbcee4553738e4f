/**
 * Appearance settings (`set` command, `settings` in the JSON block), with their defaults in one
 * place. UserVoice's names are accepted as aliases so its embed code ports unchanged.
 */
import type { PanelMode } from '../protocol.ts';

export type Position = 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';

export interface Settings {
  /** Show the floating launcher button. @default true */
  launcher: boolean;
  /** Corner of the launcher and panel. @default 'bottom-right' */
  position: Position;
  /** Launcher and accent colour, any CSS colour. @default '#4f46e5' */
  color: string;
  /** Launcher text, also its accessible name. @default 'Feedback' */
  text: string;
  /** What the panel opens on. @default 'idea' */
  mode: PanelMode;
}

export const DEFAULTS: Settings = {
  launcher: true,
  position: 'bottom-right',
  color: '#4f46e5',
  text: 'Feedback',
  mode: 'idea',
};

const ALIASES: Record<string, keyof Settings> = {
  trigger_position: 'position',
  accent_color: 'color',
  trigger_background_color: 'color',
  trigger_text: 'text',
  launcher_text: 'text',
};

const POSITIONS = ['bottom-right', 'bottom-left', 'top-right', 'top-left'];
/** UserVoice's panel modes, and ours, mapped onto ours. */
export const MODES: Record<string, PanelMode> = {
  idea: 'idea',
  comment: 'comment',
  nps: 'nps',
  smartvote: 'idea',
  contact: 'comment',
  satisfaction: 'nps',
};
// Hex, rgb()/hsl() with plain numbers, or a colour keyword: nothing that could end a declaration.
const COLOR = /^(#[0-9a-f]{3,8}|(rgb|hsl)a?\([\d\s.,%/]+\)|[a-z]{3,20})$/i;

const VALID: Record<keyof Settings, (v: unknown) => boolean> = {
  launcher: (v) => typeof v === 'boolean',
  position: (v) => POSITIONS.includes(v as string),
  color: (v) => typeof v === 'string' && COLOR.test(v),
  text: (v) => typeof v === 'string' && v.trim().length > 0 && v.length <= 40,
  mode: (v) => typeof v === 'string' && v in MODES,
};

/** Returns new settings with the valid keys of `patch` applied, and the keys it refused. */
export function mergeSettings(
  base: Settings,
  patch: Record<string, unknown>,
): { settings: Settings; refused: string[] } {
  const settings = { ...base } as Record<keyof Settings, unknown>;
  const refused: string[] = [];
  for (const [raw, value] of Object.entries(patch)) {
    const key = (ALIASES[raw] ?? raw) as keyof Settings;
    if (!(key in VALID)) continue; // not an appearance setting (global, debug, ...)
    if (VALID[key](value)) settings[key] = key === 'mode' ? MODES[value as string] : value;
    else refused.push(raw);
  }
  return { settings: settings as unknown as Settings, refused };
}

/** A mode from `show`/`addTrigger` arguments: a name, or a UserVoice-style `{mode}` object. */
export function resolveMode(arg: unknown, fallback: PanelMode): PanelMode {
  const name = typeof arg === 'string' ? arg : (arg as { mode?: unknown } | null | undefined)?.mode;
  return MODES[name as string] ?? fallback;
}
