// TEST-ONLY fixtures: a catalog from a list of signatures, and compile/drive shorthands.
import type { WorkflowUnit } from '../../ast.js';
import type { Catalog, CatalogEntry, CompiledWorkflow } from '../../ports.js';
import { compileWorkflow } from '../compile.js';
import { createMachine } from '../machine.js';
import { createTestEvaluator, testTypes } from './test-evaluator.js';

type Param = [name: string, type: string, optional?: boolean];

/** A catalog entry: `entry('add', 'action', [['x','number']], [['sum','number']])`. */
export function entry(name: string, kind: CatalogEntry['kind'], inputs: Param[] = [], outputs: Param[] = []): CatalogEntry {
  const p = ([n, type, optional]: Param) => ({ name: n, type, optional: optional ?? false });
  return { name, kind, in: inputs.map(p), out: outputs.map(p) };
}

export function catalogOf(...entries: CatalogEntry[]): Catalog {
  return { lookup: (name) => entries.find((e) => e.name === name) ?? null };
}

/** The actions most tests call. */
export const standardCatalog = catalogOf(
  entry('add', 'action', [['x', 'number'], ['y', 'number', true]], [['sum', 'number']]),
  entry('fail', 'action', [], []),
  entry('echo', 'action', [['value', 'json', true]], [['value', 'json', true]]),
  entry('bad-out', 'action', [], [['n', 'number']]),
  entry('child-flow', 'workflow', [['n', 'number']], [['doubled', 'number']]),
  entry('shape', 'interface', [['size', 'number']], [['area', 'number']]),
  entry('square', 'action', [['size', 'number']], [['area', 'number']]),
  entry('circle', 'action', [['size', 'number']], [['area', 'number']]),
  entry('other-shape', 'action', [['side', 'number']], [['area', 'number']]),
);

export function compile(unit: WorkflowUnit, catalog: Catalog = standardCatalog): CompiledWorkflow {
  return compileWorkflow(unit, { version: 1, catalog, types: testTypes });
}

export const testMachine = createMachine({ evaluator: createTestEvaluator(), types: testTypes });
