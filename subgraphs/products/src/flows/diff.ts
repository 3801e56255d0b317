// What changed between two versions of a flow.
import { isDeepStrictEqual } from 'node:util';
import type { FlowGraph } from './flow';

export interface FlowDiff {
  addedSteps: string[];
  removedSteps: string[];
  changedSteps: string[];
  startChanged: boolean;
}

/** Equal as data, whatever realm or prototype the objects come from. */
const sameData = (a: unknown, b: unknown) =>
  isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));

export function diffFlows(older: FlowGraph, newer: FlowGraph): FlowDiff {
  const before = new Map(older.steps.map((step) => [step.id, step]));
  const after = new Map(newer.steps.map((step) => [step.id, step]));
  return {
    addedSteps: [...after.keys()].filter((id) => !before.has(id)),
    removedSteps: [...before.keys()].filter((id) => !after.has(id)),
    changedSteps: [...after.keys()].filter(
      (id) => before.has(id) && !sameData(before.get(id), after.get(id)),
    ),
    startChanged: older.startStepId !== newer.startStepId,
  };
}
