/**
 * Signing identities on the integrator's backend (docs/API.md#trust): the counterpart of UserVoice's
 * `generate_sso_token`. A Node backend imports this (or does the same with any JWT library:
 * HS256, the site's identity secret, `sub`, `email`, `iat` and `exp` claims) and puts the
 * token into the page's identify call as `identity_token`.
 *
 * ```ts
 * // The package is private (not published to npm): import the file from a checkout of this
 * // repository, and run under tsx as the collector does.
 * import { signIdentityToken } from './server/sign.ts';
 * const identity_token = await signIdentityToken(process.env.PARLEY_IDENTITY_SECRET!, {
 *   id: user.id, email: user.email, name: user.name,
 *   account: { id: org.id, name: org.name, monthly_rate: 99.5, ltv: 1495, plan: 'Team' },
 * });
 * ```
 */
import { SignJWT } from 'jose';
import { userHash } from './trust/proof.ts';

export { userHash };

/** What a token vouches for; money as decimals (`monthly_rate`, `ltv`) or integer cents. */
export interface AccountClaims {
  id?: string;
  name?: string;
  plan?: string;
  monthly_rate?: number | string;
  ltv?: number | string;
  mrr_cents?: number;
  ltv_cents?: number;
}

export interface IdentityClaims {
  id: string;
  email: string;
  name?: string;
  /** The account the person acts in. */
  account?: AccountClaims;
  /** Every other account the person belongs to, each with its id (docs/API.md#the-identity-object). */
  accounts?: (AccountClaims & { id: string })[];
}

export interface SignOptions {
  /** Seconds until the token expires. Short is better: a page gets a fresh one per load. @default 3600 */
  ttlSeconds?: number;
  /** The signing time, ms since the epoch. @default Date.now() */
  now?: number;
}

/** Signs an identity token (JWT, HS256) with a site's identity secret. */
export async function signIdentityToken(
  secret: string,
  claims: IdentityClaims,
  options: SignOptions = {},
): Promise<string> {
  if (!secret) throw new Error('an identity secret is required');
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const body: Record<string, unknown> = { email: claims.email };
  if (claims.name !== undefined) body.name = claims.name;
  if (claims.account !== undefined) body.account = claims.account;
  if (claims.accounts !== undefined) body.accounts = claims.accounts;
  return new SignJWT(body)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(claims.id))
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.ttlSeconds ?? 3600))
    .sign(new TextEncoder().encode(secret));
}
