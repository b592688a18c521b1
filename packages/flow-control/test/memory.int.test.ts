import { MemoryFlowControl } from '../src/index.js';
import { describeFlowControlConformance } from './conformance.js';

// One process: another namespace is another instance.
describeFlowControlConformance('in-memory', { make: async (clock) => new MemoryFlowControl({ clock }) });
