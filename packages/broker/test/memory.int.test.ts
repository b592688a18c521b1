import { MemoryBroker } from '../src/index.js';
import { describeBrokerConformance } from './conformance.js';

// The in-memory broker is one process: "another process" and "another namespace" are other instances.
describeBrokerConformance('in-memory', async () => {
  const broker = new MemoryBroker();
  return {
    broker,
    peer: broker,
    stranger: new MemoryBroker(),
    publishRaw: (funcname, body) => broker.publishRaw(funcname, body),
    cleanup: async () => undefined,
    loseMessages: async () => broker.simulateRestart(),
    block: async (reason) => broker.simulateBlocked(reason),
  };
}, { block: true });
