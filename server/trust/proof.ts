/**
 * Identity proofs (docs/API.md#trust). A browser identify is a claim; a proof turns part of it into a
 * fact the integrator's backend vouches for:
 *
 * - `identity_token`: a JWT signed HS256 with the site's identity secret. Its claims (`sub`,
 *   `email`, `name`, `account`) replace the page's fields; its `iat` orders tokens, so a
 *   replayed older token cannot roll a field back.
 * - `user_hash`: hex HMAC-SHA256 of the id. It proves the id and nothing else.
 *
 * Every secret of the site is tried (two during a rotation). A proof that is present but wrong
 * is an HttpError 401, whatever the mode; a missing proof is one only in `required` mode. In
 * `off` mode proofs are ignored, so an integrator can start sending them before switching on.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { identitySchema, type Identity } from '../../shared/identity.ts';
import { issueDetails } from '../../shared/wire.ts';
import { RANK } from '../core/merge.ts';
import type { Site } from '../core/records.ts';
import { HttpError } from '../http/errors.ts';

/** Seconds of clock difference tolerated between the integrator's backend and us. */
export const CLOCK_TOLERANCE_S = 60;

/** An identity after its proof was checked: proofs stripped, token claims applied. */
export interface Checked {
  rank: typeof RANK.unproven | typeof RANK.user_hash | typeof RANK.token;
  identity: Identity;
  /** For tokens: the claims alone (they carry the token's rank) and the token's issue time, ms. */
  claims?: Identity;
  issuedAt?: number;
}

const encoder = new TextEncoder();

/** The user_hash of an id: what the integrator's backend computes (see server/sign.ts). */
export function userHash(secret: string, id: string): string {
  return createHmac('sha256', secret).update(id).digest('hex');
}

function unauthorized(message: string, field: string, index?: number): HttpError {
  return new HttpError(401, 'unauthorized', message, [{ ...(index === undefined ? {} : { index }), field, message }]);
}

/** Constant-time comparison of a sent hash with the expected one for each secret. */
function hashMatches(site: Site, id: string, sent: string): boolean {
  // Hex is case-insensitive: compare the bytes, not the spelling. Length first, because
  // Buffer.from(hex) silently drops a trailing odd digit.
  if (!/^[0-9a-fA-F]{64}$/.test(sent)) return false;
  const got = Buffer.from(sent, 'hex');
  let ok = false;
  for (const secret of site.identity_secrets) {
    ok = timingSafeEqual(got, Buffer.from(userHash(secret, id), 'hex')) || ok;
  }
  return ok;
}

async function verifyToken(site: Site, token: string, now: number, index?: number): Promise<JWTPayload> {
  for (const secret of site.identity_secrets) {
    try {
      const { payload } = await jwtVerify(token, encoder.encode(secret), {
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'iat', 'sub', 'email'],
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(now),
      });
      return payload;
    } catch (e) {
      // Only a signature mismatch means "maybe the other secret"; anything else (expired,
      // alg:none, malformed, missing claims) is final.
      if (e instanceof errors.JWSSignatureVerificationFailed) continue;
      const reason =
        e instanceof errors.JWTExpired
          ? 'identity_token has expired'
          : e instanceof errors.JWTClaimValidationFailed
            ? `identity_token claim "${e.claim}" is missing or invalid`
            : e instanceof errors.JOSEAlgNotAllowed
              ? 'identity_token must be signed with HS256'
              : 'identity_token is not a valid JWT';
      throw unauthorized(reason, 'identity_token', index);
    }
  }
  throw unauthorized("identity_token is not signed with this site's identity secret", 'identity_token', index);
}

/** The token's claims as an identity, validated like any other identity. */
function claimsIdentity(payload: JWTPayload, index?: number): Identity {
  const parsed = identitySchema.safeParse({
    id: payload.sub,
    email: payload.email,
    name: payload.name,
    account: payload.account,
    accounts: payload.accounts,
  });
  if (!parsed.success) {
    const details = issueDetails(parsed.error.issues, index).map((d) => ({ ...d, field: `identity_token.${d.field}` }));
    throw new HttpError(401, 'unauthorized', 'identity_token claims are not a valid identity', details);
  }
  const { identity_token: _t, user_hash: _h, ...claims } = parsed.data;
  return { ...claims, traits: {} };
}

/**
 * Checks the proof an identity carries against the site's mode and secrets. Throws 401 for a
 * wrong proof, or a missing one in `required` mode; otherwise returns the identity to store
 * and the rank it earned. `index` names the batch item in the error details.
 */
export async function checkProof(site: Site, raw: Identity, now: number, index?: number): Promise<Checked> {
  const { identity_token: token, user_hash: hash, ...identity } = raw;
  if (site.verification === 'off') return { rank: RANK.unproven, identity };
  if (token !== undefined) {
    const payload = await verifyToken(site, token, now, index);
    const claims = claimsIdentity(payload, index);
    // Claims replace the page's fields they name; the page keeps the rest (its traits, say).
    const merged: Identity = { ...identity, ...claims, traits: identity.traits };
    // A token from the future would outrank every later one: clamp to our clock.
    const issuedAt = Math.min((payload.iat as number) * 1000, now + CLOCK_TOLERANCE_S * 1000);
    return { rank: RANK.token, identity: merged, claims, issuedAt };
  }
  if (hash !== undefined) {
    if (!hashMatches(site, identity.id, hash))
      throw unauthorized('user_hash does not match the id', 'user_hash', index);
    return { rank: RANK.user_hash, identity };
  }
  if (site.verification === 'required') {
    throw unauthorized(
      'this site requires an identity_token or user_hash with every identity',
      'identity_token',
      index,
    );
  }
  return { rank: RANK.unproven, identity };
}
