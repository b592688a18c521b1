import { inject } from 'vitest';
import { testNamespaceName } from '@drover/testing';
import { RedisFlowControl } from '../src/index.js';
import { describeFlowControlConformance } from './conformance.js';

const namespace = testNamespaceName();

describeFlowControlConformance('Redis', {
  make: async (clock, ns = namespace) => {
    const flow = new RedisFlowControl({ url: inject('droverServices').redisUrl, namespace: ns, clock });
    await flow.ready();
    return flow;
  },
});
