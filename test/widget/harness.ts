/** A client over a fake transport and a Storage that outlives it (so a test can "reload"). */
import { createClient, type ClientOptions } from '../../widget/client.ts';
import { silent } from '../../widget/log.ts';
import { createStorage } from '../../widget/storage.ts';
import { fakeTransport, memoryStorage } from './fakes.ts';

export const ann = { id: '123', email: 'Ann@Acme.test', name: 'Ann', account: { id: 'acme', monthly_rate: 99.5 } };
export const bob = { id: 'b', email: 'bob@acme.test' };

export function setup(
  script: Parameters<typeof fakeTransport>[0] = [],
  disk = memoryStorage(),
  extra: Partial<ClientOptions> = {},
) {
  const fake = fakeTransport(script);
  const client = createClient({
    site: 'demo',
    origin: 'https://c.test',
    transport: fake.transport,
    storage: createStorage(() => disk, silent),
    random: () => 0.5,
    log: silent,
    ...extra,
  });
  return { ...fake, client, disk };
}
