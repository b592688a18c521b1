import { describe, expect, it } from 'vitest';
import type { DispatchCandidate } from '@drover/core';
import { choosePublications, staleFunctions } from './choose-publications.js';

const ready = (id: string, funcname: string): DispatchCandidate => ({ id, funcname, priority: 0, state: 'ready' });
const stale = (id: string, funcname: string): DispatchCandidate => ({ id, funcname, priority: 0, state: 'dispatched' });

describe('choosePublications', () => {
  it('publishes every ready job, and stale ones only into the room below the bound, oldest first', () => {
    const jobs = [ready('1', 'a'), ready('2', 'a'), stale('3', 'a'), stale('4', 'a'), stale('5', 'a'), stale('6', 'b')];
    // a: bound 5, 1 waiting, 2 ready in this batch: room for 2 of its 3 stale ones. b: queue full.
    const chosen = choosePublications(jobs, 5, new Map([['a', 1], ['b', 5]]));
    expect(chosen.map((j) => j.id)).toEqual(['1', '2', '3', '4']);
  });

  it('publishes no copy into a queue at or over its bound', () => {
    expect(choosePublications([stale('1', 'a')], 3, new Map([['a', 7]]))).toEqual([]);
  });

  it('publishes a lost message again whatever else waits, when the queue has room', () => {
    expect(choosePublications([stale('9', 'a')], 3, new Map([['a', 2]])).map((j) => j.id)).toEqual(['9']);
    expect(staleFunctions([ready('1', 'x'), stale('2', 'y'), stale('3', 'y')])).toEqual(['y']);
  });
});
