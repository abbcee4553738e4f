/**
 * Location lookups (README "Location"): what deriving a country from the client address adds
 * to one identify request. In-process: opening the shipped database (once, on the first
 * lookup), then lookups of random public IPv4 addresses (each new: the worst case) and of one
 * repeated address, beside the bare JSON.parse of a one-identity widget body, the floor any
 * request pays. Small enough to run anywhere; figures drift with the machine's load.
 */
import { loadavg } from 'node:os';
import { createGeoip } from '../../server/http/geoip.ts';

export interface GeoipResult {
  open_ms: number;
  lookup_us_new_address: number;
  lookup_us_same_address: number;
  bare_parse_us_per_request: number;
  located_share: number;
  load_average: number[];
}

const N = 200_000;

/** A deterministic stream of addresses outside 0/8, 10/8, 127/8 and the multicast range. */
function addresses(n: number): string[] {
  let x = 2463534242;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const a = 11 + ((x >>> 0) % 112); // 11-122: public unicast blocks
    out.push(`${a}.${(x >>> 8) & 255}.${(x >>> 16) & 255}.${(x >>> 24) & 255}`);
  }
  return out;
}

const usPer = (start: bigint, n: number) => +(Number(process.hrtime.bigint() - start) / 1e3 / n).toFixed(3);

export async function geoipBench(): Promise<GeoipResult> {
  const geoip = createGeoip();
  let t = process.hrtime.bigint();
  geoip.locate('81.2.69.160');
  const open_ms = +(Number(process.hrtime.bigint() - t) / 1e6).toFixed(1);

  const list = addresses(N);
  let located = 0;
  t = process.hrtime.bigint();
  for (const a of list) if (geoip.locate(a)) located++;
  const lookup_us_new_address = usPer(t, N);

  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) geoip.locate('81.2.69.160');
  const lookup_us_same_address = usPer(t, N);

  const body = JSON.stringify({
    sent_at: Date.now(),
    identities: [
      {
        message_id: 'm-1',
        observed_at: Date.now(),
        id: '123',
        email: 'ann@acme.test',
        name: 'Ann',
        account: { id: 'acme', name: 'Acme', monthly_rate: 99.5, plan: 'Team' },
      },
    ],
  });
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) JSON.parse(body);
  const bare_parse_us_per_request = usPer(t, N);

  return {
    open_ms,
    lookup_us_new_address,
    lookup_us_same_address,
    bare_parse_us_per_request,
    located_share: +(located / N).toFixed(3),
    load_average: loadavg().map((l) => +l.toFixed(2)),
  };
}
