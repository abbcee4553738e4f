/**
 * Site settings for the sources issue: the /v1 write key, a given identity secret (an Intercom
 * verification secret brought in), the Segment webhook secret, geoip and the revenue trait —
 * through server/sites.ts on the memory engine, and once through the real CLI on disk.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { addIdentitySecret, createSite, rotateWriteKey, setSiteSettings, siteByWriteKey } from '../../server/sites.ts';
import { checkProof, userHash } from '../../server/trust/proof.ts';
import { RANK } from '../../server/core/merge.ts';
import { memoryIntake } from '../helpers/app.ts';

const INTERCOM_SECRET = 'intercom-verification-secret-0123456789';

describe('site settings', () => {
  it('shows a write key once at creation, finds the site by it, and rotation retires the old key', async () => {
    const { store } = await memoryIntake();
    const created = await createSite(store, { name: 'A', origins: ['https://a.test'], siteKey: 'acme_site-1' });
    expect(created.write_key).toMatch(/^wk_/);
    expect(JSON.stringify(await store.getSite('acme_site-1'))).not.toContain(created.write_key);
    expect((await siteByWriteKey(store, created.write_key))?.key).toBe('acme_site-1');
    expect(await siteByWriteKey(store, created.write_key + 'x')).toBeUndefined();
    expect(await siteByWriteKey(store, created.admin_key)).toBeUndefined();
    expect(await siteByWriteKey(store, 'garbage')).toBeUndefined();
    const { write_key } = await rotateWriteKey(store, 'acme_site-1');
    expect((await siteByWriteKey(store, write_key))?.key).toBe('acme_site-1');
    expect(await siteByWriteKey(store, created.write_key)).toBeUndefined();
  });

  it('adds a given identity secret, so a user_hash made with an Intercom secret verifies', async () => {
    const { store } = await memoryIntake();
    await createSite(store, { name: 'A', origins: ['https://a.test'], siteKey: 's', verification: 'optional' });
    const identity = { id: '42', email: 'ann@acme.test', user_hash: userHash(INTERCOM_SECRET, '42') };
    await expect(checkProof((await store.getSite('s'))!, identity as never, 0)).rejects.toThrow();
    await addIdentitySecret(store, 's', INTERCOM_SECRET);
    const checked = await checkProof((await store.getSite('s'))!, identity as never, 0);
    expect(checked.rank).toBe(RANK.user_hash);
    await expect(addIdentitySecret(store, 's', 'short')).rejects.toThrow(/16-256/);
  });

  it('sets, clears and validates the segment secret, geoip and the revenue trait', async () => {
    const { store } = await memoryIntake();
    await createSite(store, { name: 'A', origins: ['https://a.test'], siteKey: 's' });
    let site = await setSiteSettings(store, 's', {
      segment_secret: 'segment-shared-secret-1',
      geoip: false,
      revenue_trait: { name: 'arr_monthly', unit: 'cents' },
    });
    expect(site).toMatchObject({
      segment_secret: 'segment-shared-secret-1',
      geoip: false,
      revenue_trait: { name: 'arr_monthly', unit: 'cents' },
    });
    site = await setSiteSettings(store, 's', { segment_secret: null, geoip: true, revenue_trait: null });
    expect(site.segment_secret).toBeUndefined();
    expect(site.geoip).toBeUndefined();
    expect(site.revenue_trait).toBeUndefined();
    await expect(setSiteSettings(store, 's', { segment_secret: 'x' })).rejects.toThrow(/segment-secret/);
    await expect(setSiteSettings(store, 's', { revenue_trait: { name: 'a b', unit: 'dollars' } })).rejects.toThrow(
      /revenue-trait/,
    );
  });
});

describe('the sites CLI', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-sites-cli-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const parley = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
      env: { ...process.env, PARLEY_DATA_DIR: dataDir },
    });
    return JSON.parse(stdout.trim());
  };

  it('creates a site with a write key and sets every new setting without printing secrets', async () => {
    const created = await parley('sites', 'create', '--name', 'Cli', '--origin', 'https://app.acme.test');
    expect(created.write_key).toMatch(/^wk_/);
    const set = await parley(
      'sites',
      'set',
      '--site',
      created.site_key,
      '--identity-secret',
      INTERCOM_SECRET,
      '--segment-secret',
      'segment-shared-secret-1',
      '--geoip',
      'off',
      '--revenue-trait',
      'mrr_usd',
      '--revenue-unit',
      'dollars',
    );
    expect(set).toEqual({
      site_key: created.site_key,
      identity_secret: 'added',
      segment_secret: 'set',
      geoip: false,
      revenue_trait: { name: 'mrr_usd', unit: 'dollars' },
    });
    const rotated = await parley('sites', 'rotate-write-key', '--site', created.site_key);
    expect(rotated.write_key).toMatch(/^wk_/);
    expect(rotated.write_key).not.toBe(created.write_key);
    const [listed] = await parley('sites', 'list');
    expect(listed).toMatchObject({ write_key: 'set', segment_secret: 'set', geoip: false });
    expect(JSON.stringify(listed)).not.toContain('segment-shared-secret-1');
    expect(JSON.stringify(listed)).not.toContain(INTERCOM_SECRET);
  }, 120_000);
});
