/**
 * Every limit of the wire contract, in one place. Both the widget (which must never build a
 * request the collector would refuse) and the collector (which enforces them) import these.
 * This module has no dependencies so the widget bundle can import it without pulling in zod.
 */

/** Items in one widget identify request (docs/API.md#http-api). */
export const WIDGET_BATCH_MAX_ITEMS = 20;
/** Identities in one admin bulk_identify request (docs/API.md#http-api). */
export const BULK_BATCH_MAX_ITEMS = 1000;
/** Items in one admin feedback batch (docs/API.md#http-api). */
export const FEEDBACK_BATCH_MAX_ITEMS = 1000;
/** Records in one transactional import (docs/API.md#http-api). */
export const IMPORT_MAX_RECORDS = 1000;
/**
 * Bytes in one public (widget) request body. Also the keepalive/sendBeacon budget of a page
 * (docs/DESIGN.md#measured-facts: all in-flight keepalive requests share ~64 KiB).
 */
export const PUBLIC_BODY_MAX_BYTES = 64 * 1024;
/** Bytes in one admin request body: 1000 identities of ~1 KB each, with headroom. */
export const ADMIN_BODY_MAX_BYTES = 4 * 1024 * 1024;
/** Bytes in one Segment tracking API call (/v1/identify, /v1/group) and one event in a batch: Segment's own limits. */
export const SEGMENT_CALL_MAX_BYTES = 32 * 1024;
/** Bytes in one Segment /v1/batch call (docs/API.md#the-v1-routes). */
export const SEGMENT_BATCH_MAX_BYTES = 500 * 1024;
/** Nesting depth of any JSON body; identities are at most 3 levels deep. */
export const JSON_MAX_DEPTH = 8;

export const ID_MAX_CHARS = 255;
export const EMAIL_MAX_CHARS = 254;
export const NAME_MAX_CHARS = 256;
export const TYPE_MAX_CHARS = 128;
export const APP_VERSION_MAX_CHARS = 64;
export const TEXT_MAX_CHARS = 256;
export const CUSTOM_FIELDS_MAX = 100;
export const CUSTOM_FIELD_VALUE_MAX_CHARS = 1024;
export const CUSTOM_FIELD_KEY = /^cf_[a-z0-9_]{1,64}$/;
/** 10 million dollars a month, in cents: anything larger is a unit mistake, not a customer. */
export const MONEY_MAX_CENTS = 1_000_000_000;
export const MESSAGE_ID_MAX_CHARS = 64;
export const FEEDBACK_TITLE_MAX_CHARS = 200;
export const FEEDBACK_BODY_MAX_CHARS = 10_000;
export const PAGE_URL_MAX_CHARS = 2048;
/** An IANA time zone name as a browser reports it (`Europe/Berlin`). */
export const TIMEZONE_MAX_CHARS = 64;
/** A BCP 47 language tag (`de-DE`): 35 is the length RFC 5646 asks every implementation to handle. */
export const LOCALE_MAX_CHARS = 35;

/** An identity the collector acknowledged is not re-sent for this long (docs/API.md#how-the-widget-delivers). */
export const IDENTIFY_THROTTLE_MS = 24 * 60 * 60 * 1000;

/**
 * How long the widget's outbox keeps an undelivered item, re-sending it with the same message
 * id (Safari erases script storage after 7 idle days anyway). The collector remembers applied
 * message ids exactly this long: an older retry cannot arrive (docs/API.md#identify-semantics).
 */
export const OUTBOX_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Listing pages (docs/API.md#http-api). */
export const PER_PAGE_DEFAULT = 20;
export const PER_PAGE_MAX = 100;

/** The widget API's path prefix; the site key follows it. */
export const WIDGET_API_PREFIX = '/api/widget/v1/';

/** Feedback kinds a widget may send. */
export const FEEDBACK_KINDS = ['idea', 'support', 'comment', 'nps'] as const;
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];
