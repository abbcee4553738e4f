/**
 * Location from a client address (README "Location", docs/API.md#location): the country from
 * the country database an npm package ships (@ip-location-db/geo-whois-asn-country-mmdb, built
 * from the regional internet registries' data, CC BY 4.0 NRO), so a fresh install needs no
 * download; region and city too when the operator points PARLEY_GEOIP_DB at a city database
 * (a MaxMind GeoLite2/GeoIP2 City mmdb, say). Read with MaxMind's own mmdb reader.
 *
 * The address is only looked up: it is never returned, stored or logged. A database is read
 * on the first lookup (a collector that never needs one never loads it), and a file that will
 * not open turns lookups off with one logged line instead of failing requests.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Reader, type Response } from 'maxmind';
import type { Location } from '../../shared/identity.ts';

export interface Geoip {
  /** The address's location, or undefined when it is private, unknown or lookups are off. */
  locate(address: string | undefined): Location | undefined;
}

export interface GeoipOptions {
  /** An mmdb file with cities (PARLEY_GEOIP_DB); used instead of the shipped country database. */
  cityDb?: string;
  /** Told once when a database cannot be read. */
  onError?: (err: unknown) => void;
}

/** The country database the package ships (IPv4 and IPv6 in one file). */
export function shippedCountryDb(): string {
  return createRequire(import.meta.url).resolve(
    '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb',
  );
}

/** What the known mmdb layouts hold: MaxMind's (`country.iso_code`, …) or ip-location-db's (`country_code`, …). */
interface GeoRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  subdivisions?: { iso_code?: string }[];
  city?: { names?: { en?: string } } | string;
  country_code?: string;
  state1?: string;
}

export function createGeoip(options: GeoipOptions = {}): Geoip {
  let reader: Reader<Response> | null | undefined;
  const open = (): Reader<Response> | null => {
    try {
      // Read whole (~8 MB for the shipped file): a lookup is then a few memory reads, no I/O.
      return new Reader<Response>(readFileSync(options.cityDb ?? shippedCountryDb()));
    } catch (err) {
      options.onError?.(err);
      return null;
    }
  };
  return {
    locate(address) {
      if (!address) return undefined;
      // Express gives IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d.
      const ip = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
      if (!isIP(ip) || unroutable(ip)) return undefined;
      if (reader === undefined) reader = open();
      if (!reader) return undefined;
      let r: GeoRecord | null;
      try {
        r = reader.get(ip) as GeoRecord | null;
      } catch {
        return undefined;
      }
      return r ? locationOf(r) : undefined;
    },
  };
}

/**
 * Loopback, private and link-local addresses (a test client, a proxy that is not trusted): no
 * database locates them, so they are answered without opening one.
 */
function unroutable(ip: string): boolean {
  return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|0\.)|^(::1?$|f[cd][0-9a-f]{2}:|fe[89ab][0-9a-f]:)/i.test(
    ip,
  );
}

/** Parley's location from a database record: an ISO country code at least, or nothing. */
export function locationOf(r: GeoRecord): Location | undefined {
  const country = (r.country?.iso_code ?? r.country_code ?? r.registered_country?.iso_code)?.toUpperCase();
  if (!country || !/^[A-Z]{2}$/.test(country)) return undefined;
  const region = r.subdivisions?.[0]?.iso_code ?? r.state1;
  const city = typeof r.city === 'string' ? r.city : r.city?.names?.en;
  return {
    country,
    ...(region ? { region: region.slice(0, 256) } : {}),
    ...(city ? { city: city.slice(0, 256) } : {}),
  } as Location;
}

/** Lookups off (tests, a site with no use for them). */
export const noGeoip: Geoip = { locate: () => undefined };
