/**
 * `parley sites create|list|set|rotate-secret|remove-secret|rotate-write-key`: opens the engine the environment
 * names as an operator command. The embedded engine's data directory is opened exclusively, so
 * its collector must be stopped (one process per data directory; the lock says so clearly if
 * it is not); on PostgreSQL collectors may keep running, as they read sites from the database
 * on every request.
 */
import { loadConfig } from '../config.ts';
import type { Verification } from '../core/records.ts';
import type { Store } from '../core/store.ts';
import { engineConfig, LockedError, openEngine } from '../engines/index.ts';
import { Intake } from '../intake/intake.ts';
import {
  addIdentitySecret,
  createSite,
  publicSite,
  removeOldIdentitySecret,
  rotateWriteKey,
  setSiteSettings,
  setVerification,
  type SiteSettings,
} from '../sites.ts';
import { parse } from './args.ts';

const MODES = ['off', 'optional', 'required'];

/**
 * Opens the engine, brings its store up to date with what a crashed collector left in the
 * embedded log, runs `fn` on the store, and checkpoints.
 */
export async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const engine = await openEngine(engineConfig(loadConfig(process.env), 'command')).catch((e) => {
    throw e instanceof LockedError ? new Error(`${e.message}; the collector must be stopped for this command`) : e;
  });
  try {
    // A command takes no identities, so its queue needs no bound.
    const intake = new Intake({
      store: engine.store,
      log: engine.log,
      applier: engine.applier,
      maxQueueDepth: Infinity,
    });
    await intake.open(); // apply what a crashed collector left in the log first
    const result = await fn(engine.store);
    await intake.close();
    return result;
  } finally {
    await engine.close();
  }
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const sites = await withStore(async (store) => (await store.listSites()).map(publicSite));
    process.stdout.write(JSON.stringify(sites) + '\n');
    return 0;
  }
  if (sub === 'create') {
    const { values } = parse(rest, { name: {}, origin: { multiple: true }, verification: {} });
    const name = values.name as string | undefined;
    const origins = (values.origin ?? []) as string[];
    if (!name) throw new Error('--name is required');
    if (!origins.length) throw new Error('at least one --origin is required');
    const verification = ((values.verification as string | undefined) ?? 'off') as Verification;
    if (!MODES.includes(verification)) throw new Error(`--verification must be one of ${MODES.join(', ')}`);
    const created = await withStore((store) => createSite(store, { name, origins, verification }));
    process.stdout.write(JSON.stringify(created) + '\n');
    return 0;
  }
  if (sub === 'rotate-secret' || sub === 'remove-secret' || sub === 'rotate-write-key') {
    const { values } = parse(rest, { site: {} });
    if (!values.site) throw new Error('--site is required');
    const key = values.site as string;
    const out = await withStore<object>((store) =>
      sub === 'rotate-secret'
        ? addIdentitySecret(store, key)
        : sub === 'remove-secret'
          ? removeOldIdentitySecret(store, key)
          : rotateWriteKey(store, key),
    );
    process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  }
  if (sub === 'set') {
    const { values } = parse(rest, {
      site: {},
      verification: {},
      'identity-secret': {},
      'segment-secret': {},
      geoip: {},
      'revenue-trait': {},
      'revenue-unit': {},
    });
    if (!values.site) throw new Error('--site is required');
    const key = values.site as string;
    const verification = values.verification as Verification | undefined;
    if (verification !== undefined && !MODES.includes(verification))
      throw new Error(`--verification must be one of ${MODES.join(', ')}`);
    const settings = siteSettings(values as Record<string, string | undefined>);
    const secret = values['identity-secret'] as string | undefined;
    if (verification === undefined && secret === undefined && Object.keys(settings).length === 0)
      throw new Error(
        'nothing to set: give --verification, --identity-secret, --segment-secret, --geoip or --revenue-trait',
      );
    const out = await withStore(async (store) => {
      if (verification !== undefined) await setVerification(store, key, verification);
      if (secret !== undefined) await addIdentitySecret(store, key, secret);
      const site = Object.keys(settings).length ? await setSiteSettings(store, key, settings) : undefined;
      // Echoes what changed; secrets are never printed back, only whether one is set.
      const shown = site && publicSite(site);
      return {
        site_key: key,
        ...(verification !== undefined ? { verification } : {}),
        ...(secret !== undefined ? { identity_secret: 'added' } : {}),
        ...(settings.segment_secret !== undefined ? { segment_secret: shown!.segment_secret } : {}),
        ...(settings.geoip !== undefined ? { geoip: shown!.geoip } : {}),
        ...(settings.revenue_trait !== undefined ? { revenue_trait: site!.revenue_trait ?? 'default' } : {}),
      };
    });
    process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  }
  process.stderr.write(
    'usage: parley sites create --name NAME --origin URL [--origin URL ...] [--verification off|optional|required]\n       parley sites list\n       parley sites set --site KEY [--verification off|optional|required] [--identity-secret S]\n                        [--segment-secret S|off] [--geoip on|off] [--revenue-trait NAME --revenue-unit dollars|cents | --revenue-trait default]\n       parley sites rotate-secret --site KEY   (adds a second identity secret)\n       parley sites remove-secret --site KEY   (drops the older one)\n       parley sites rotate-write-key --site KEY   (replaces the /v1 write key)\n',
  );
  return 2;
}

/** The `sites set` flags that become SiteSettings; absent flags leave the setting as it is. */
function siteSettings(values: Record<string, string | undefined>): SiteSettings {
  const out: SiteSettings = {};
  const segment = values['segment-secret'];
  if (segment !== undefined) out.segment_secret = segment === 'off' ? null : segment;
  const geoip = values.geoip;
  if (geoip !== undefined) {
    if (geoip !== 'on' && geoip !== 'off') throw new Error('--geoip must be on or off');
    out.geoip = geoip === 'on';
  }
  const trait = values['revenue-trait'];
  const unit = values['revenue-unit'];
  if (trait === 'default') out.revenue_trait = null;
  else if (trait !== undefined) {
    if (unit !== 'dollars' && unit !== 'cents') throw new Error('--revenue-unit must be dollars or cents');
    out.revenue_trait = { name: trait, unit };
  } else if (unit !== undefined) throw new Error('--revenue-unit needs --revenue-trait');
  return out;
}
