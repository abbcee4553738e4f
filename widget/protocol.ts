/**
 * What widget.js and the lazily loaded panel.js say to each other. Types and one constant
 * only, so both bundles can import it without pulling code into the other.
 */
import type { FeedbackKind } from '../shared/limits.ts';

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

export interface IdeaMatch { id: string; title: string; supporters_count: number }

/** Everything the panel needs from the widget: props in, callbacks out. */
export interface PanelProps {
  mode: PanelMode;
  /** True when no identity is known, so the panel must ask for an email. */
  needsEmail: boolean;
  submit(draft: FeedbackDraft): Promise<SendResult>;
  searchIdeas(q: string): Promise<IdeaMatch[]>;
  close(): void;
}

/** What panel.js registers on the window under `Symbol.for(PANEL_KEY)`. */
export interface PanelModule {
  css: string;
  /** Renders the panel into `container`, or unmounts it when props is null. */
  render(props: PanelProps | null, container: Element): void;
}

/** A registry symbol, not a global name: page scripts and DOM ids cannot clobber it. */
export const PANEL_KEY = 'parley.panel';
