/**
 * What widget.js and the lazily loaded panel.js say to each other. widget.js carries the
 * identify path and the command queue; panel.js carries everything visible (launcher, panel,
 * styles, appearance settings) and is fetched when the browser is idle or on first open;
 * sources.js reads identities other tools left on the page, fetched only when the site opts in.
 * Types and one constant only, so both bundles can import it without pulling code across.
 */
import type { FeedbackKind } from '../shared/limits.ts';
import type { Logger } from './log.ts';
import type { Handlers } from './queue.ts';

export type PanelMode = 'idea' | 'comment' | 'nps';

/** How a submission ended: delivered, kept in the outbox for later, or refused by the collector. */
export type SendResult = 'sent' | 'queued' | 'failed';

export interface FeedbackDraft {
  kind: FeedbackKind;
  title?: string;
  body?: string;
  idea_id?: string;
  score?: number;
  email?: string;
}

export interface IdeaMatch {
  id: string;
  title: string;
  supporters_count: number;
}

/** The collector's answer to `GET /api/widget/v1/:site/ideas?q=` (docs/API.md#http-api): the best ten matches. */
export interface IdeasReply {
  ideas: IdeaMatch[];
}

/** Everything the panel needs from the widget: props in, callbacks out. */
export interface PanelProps {
  mode: PanelMode;
  /** True when no identity is known, so the panel must ask for an email. */
  needsEmail: boolean;
  submit(draft: FeedbackDraft): Promise<SendResult>;
  /**
   * Resolves to the collector's answer as it came: an `IdeasReply` when the search worked, an
   * error body or nothing when it did not. Unchecked: the panel renders only well-formed ideas.
   */
  searchIdeas(q: string): Promise<unknown>;
  close(): void;
}

/** What widget.js hands panel.js when it mounts the launcher and panel. */
export interface MountOptions {
  doc: Document;
  /** The nonce of widget.js's tag, for the fallback `<style>`. */
  nonce: string;
  log: Logger;
  /** Builds the panel's props at the moment it opens (the identity may have changed). */
  props(mode: PanelMode, close: () => void): PanelProps;
}

/** The mounted launcher and panel, as widget.js drives them from commands. */
export interface Ui {
  /** Applies appearance settings; panel.js validates them and logs what it refuses. */
  set(patch: Record<string, unknown>): void;
  /** Opens the panel on a mode name (ours or UserVoice's) or a `{mode}` object. */
  open(mode?: unknown): void;
  close(): void;
}

/** What panel.js registers on the window under `Symbol.for(PANEL_KEY)`. */
export interface PanelModule {
  mount(opts: MountOptions): Ui;
}

/** A registry symbol, not a global name: page scripts and DOM ids cannot clobber it (panel-loader.ts). */
export const PANEL_KEY = 'parley.panel';

/** What sources.js uses of the widget's client (client.ts). */
export interface SourceClient {
  identify(raw: unknown): void;
  logout(): void;
  identity(): unknown;
}

/** What sources.js registers on the window under `Symbol.for('parley.sources')`. */
export interface SourcesModule {
  /**
   * Reads the embed's settings itself (keeping that code out of widget.js), follows the tools
   * it names, and identifies the person they know through `client` — unless the page
   * identified someone itself. To see the page's own calls it wraps `identify` and `logout` in
   * `handlers`, the command table queue.ts looks each command up in at every call, so widget.js
   * carries none of this rule.
   */
  watch(win: Window, client: SourceClient, handlers: Handlers): void;
}
