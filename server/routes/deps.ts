/**
 * What the app and its routes are built from (createApp in app.ts). It is its own module so
 * that the routes import it, not app.ts, which imports them: arrows point down.
 */
import type { Logger } from 'pino';
import type { Store } from '../core/store.ts';
import type { RateLimits, SharedLimits } from '../http/rate-limit.ts';
import type { Geoip } from '../http/geoip.ts';
import type { Intake } from '../intake/intake.ts';

export interface Deps {
  store: Store;
  intake: Intake;
  clock: () => number;
  logger: Logger;
  /** Where the built bundles are (dist/). */
  distDir?: string;
  /** Rate limits (http/rate-limit.ts). @default DEFAULTS.rateLimits (config.ts) */
  rateLimits?: RateLimits;
  /** Counts the rate limits together with other collectors (PostgreSQL); else per process. */
  sharedLimits?: SharedLimits;
  /** Express `trust proxy`: which proxies may set X-Forwarded-For. @default DEFAULTS.trustProxy (config.ts) */
  trustProxy?: boolean | number | string;
  /** Location from client addresses (http/geoip.ts). @default the shipped country database */
  geoip?: Geoip;
}
