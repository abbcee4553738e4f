/**
 * Where each stored field of one record came from (docs/API.md#get-apiv2adminusersid): the
 * value shown today, the source that wrote it, when, and the message id of that update. It
 * answers "why does the console say this customer pays $99?".
 */
import { money, place, when } from './format.ts';
import type { Provenance } from './types.ts';

const SOURCE: Record<string, string> = {
  admin_api: 'Admin API',
  identity_token: 'Identity token',
  user_hash: 'user_hash',
  unproven: 'Unproven page',
};

/** A stored value as text: money in dollars, places and tags readable, other objects as JSON. */
function shown(field: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (field.endsWith('_cents') && typeof value === 'number') return money(value);
  if (field.endsWith('_at') && typeof value === 'string') return when(value);
  if (field === 'location' && typeof value === 'object') return place(value as Record<string, string>);
  if (Array.isArray(value)) return value.join(', ') || '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function ProvenanceTable({
  record,
  provenance,
  caption,
}: {
  record: Record<string, unknown> & { custom_fields?: Record<string, unknown> };
  provenance: Provenance;
  caption: string;
}) {
  const fields = Object.keys(provenance).sort();
  if (fields.length === 0) return null;
  return (
    <table class="provenance">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th>Field</th>
          <th>Value</th>
          <th>Source</th>
          <th>Written</th>
          <th>Message id</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((field) => {
          const o = provenance[field];
          // Links are shown under `links` in the record; custom fields under `custom_fields`.
          const links = record.links as Record<string, unknown> | undefined;
          const value = field.startsWith('cf_')
            ? record.custom_fields?.[field]
            : field === 'external_account'
              ? links?.external_account
              : record[field];
          return (
            <tr key={field} data-field={field}>
              <td class="mono">{field}</td>
              <td>{shown(field, value)}</td>
              <td>
                <span class={`badge source-${o.source}`}>{SOURCE[o.source] ?? o.source}</span>
              </td>
              <td class="nowrap">{when(o.at)}</td>
              <td class="mono">{o.message_id ?? <span class="secondary">none (import)</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
