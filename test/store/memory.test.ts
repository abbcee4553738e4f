import { MemoryStore } from '../../server/store/memory.ts';
import { storeConformance } from './conformance.ts';

storeConformance('memory', async () => ({ store: new MemoryStore(), close: async () => {} }));
