/**
 * `parley sign --site SITE_KEY --id ID --email EMAIL [--name N --account-id ID --account-name N
 * --mrr 99.5 --ltv 1495 --plan P --ttl 3600]`: prints an identity token for that site, signed
 * with its newest identity secret — what an integrator's backend would generate (server/sign.ts).
 */
import { signIdentityToken, type IdentityClaims } from '../sign.ts';
import { parse } from './args.ts';
import { withStore } from './sites.ts';

const number = (flag: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a non-negative number`);
  return n;
};

export async function run(args: string[]): Promise<number> {
  const { values: v } = parse(args, {
    site: {},
    id: {},
    email: {},
    name: {},
    'account-id': {},
    'account-name': {},
    mrr: {},
    ltv: {},
    plan: {},
    ttl: {},
  }) as { values: Record<string, string | undefined> };
  if (!v.site || !v.id || !v.email) {
    process.stderr.write(
      'usage: parley sign --site SITE_KEY --id ID --email EMAIL [--name N --account-id ID --account-name N --mrr 99.5 --ltv 1495 --plan P --ttl 3600]\n',
    );
    return 2;
  }
  const claims: IdentityClaims = { id: v.id, email: v.email, ...(v.name ? { name: v.name } : {}) };
  const mrr = number('mrr', v.mrr);
  const ltv = number('ltv', v.ltv);
  if (v['account-id'] || v['account-name'] || v.plan || mrr !== undefined || ltv !== undefined) {
    claims.account = {
      ...(v['account-id'] ? { id: v['account-id'] } : {}),
      ...(v['account-name'] ? { name: v['account-name'] } : {}),
      ...(v.plan ? { plan: v.plan } : {}),
      ...(mrr !== undefined ? { monthly_rate: mrr } : {}),
      ...(ltv !== undefined ? { ltv } : {}),
    };
  }
  const ttl = number('ttl', v.ttl) ?? 3600;
  const secret = await withStore(async (store) => {
    const site = await store.getSite(v.site!);
    if (!site) throw new Error(`no site ${v.site}`);
    // The newest secret: during a rotation it is the one about to stay.
    return site.identity_secrets[site.identity_secrets.length - 1];
  });
  process.stdout.write((await signIdentityToken(secret, claims, { ttlSeconds: ttl })) + '\n');
  return 0;
}
