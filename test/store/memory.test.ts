import { openEngine } from '../../server/engines/index.ts';
import { storeConformance } from './conformance.ts';

// The embedded engine without a data directory: the memory store alone.
storeConformance('memory', async () => ({ store: (await openEngine({ dataDir: null })).store, close: async () => {} }));
