import { inject } from 'vitest';
import { testNamespaceName } from '@drover/testing';
import { RedisFlowControl } from '../src/index.js';
import { describeFlowControlConformance } from './conformance.js';

const namespace = testNamespaceName();

describeFlowControlConformance('Redis', {
  make: async (clock, other) => {
    const flow = new RedisFlowControl({ url: inject('droverServices').redisUrl, namespace: other === undefined ? namespace : `${namespace}_${other}`, clock });
    await flow.ready();
    return flow;
  },
});
