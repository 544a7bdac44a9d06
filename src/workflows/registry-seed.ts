import { readFile } from 'node:fs/promises';

import { parse } from 'yaml';

import type { RegistrySeed } from './registry.types.js';

export const DEFAULT_REGISTRY_PATH = new URL('../site/registry.yaml', import.meta.url);

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Workflow ids may hold inner spaces, as NMDC's do (`ReadsQC: v1.0.8`). */
const WORKFLOW_ID = /^[A-Za-z0-9](?:[A-Za-z0-9._: -]{0,126}[A-Za-z0-9._:-])?$/;

/**
 * Reads and checks the registry file. Every problem is reported at once, and references between
 * sections (a workflow's capabilities, a trigger's type and workflow) must resolve.
 */
export async function loadRegistrySeed(path: URL | string = DEFAULT_REGISTRY_PATH): Promise<RegistrySeed> {
  const raw: unknown = parse(await readFile(path, 'utf8'));
  const problems: string[] = [];
  const seed = (raw ?? {}) as Partial<RegistrySeed>;
  const list = <T>(name: keyof RegistrySeed): T[] => {
    const value = seed[name];
    if (!Array.isArray(value)) {
      problems.push(`${name} must be a list`);
      return [];
    }
    return value as T[];
  };
  const capabilities = list<RegistrySeed['capabilities'][number]>('capabilities');
  const objectTypes = list<RegistrySeed['object_types'][number]>('object_types');
  const workflows = list<RegistrySeed['workflows'][number]>('workflows');
  const triggers = list<RegistrySeed['triggers'][number]>('triggers');

  const ids = (entries: { id?: unknown }[], section: string, pattern = ID): Set<string> => {
    const seen = new Set<string>();
    entries.forEach((entry, i) => {
      if (typeof entry.id !== 'string' || !pattern.test(entry.id)) {
        problems.push(
          `${section}[${i}].id must be an id of letters, digits and ._:-${pattern === WORKFLOW_ID ? ' (and inner spaces)' : ''}`,
        );
      } else if (seen.has(entry.id)) {
        problems.push(`${section}[${i}].id "${entry.id}" is listed twice`);
      } else {
        seen.add(entry.id);
      }
    });
    return seen;
  };
  const capabilityIds = ids(capabilities, 'capabilities');
  const objectTypeIds = ids(objectTypes, 'object_types');
  const workflowIds = ids(workflows, 'workflows', WORKFLOW_ID);
  workflows.forEach((workflow, i) => {
    if (!Array.isArray(workflow.capability_ids)) {
      problems.push(`workflows[${i}].capability_ids must be a list`);
      return;
    }
    for (const capability of workflow.capability_ids) {
      if (!capabilityIds.has(capability)) {
        problems.push(`workflows[${i}] needs unknown capability "${capability}"`);
      }
    }
    if (
      workflow.lease_seconds !== undefined &&
      (!Number.isInteger(workflow.lease_seconds) || workflow.lease_seconds < 1)
    ) {
      problems.push(`workflows[${i}].lease_seconds must be a positive integer`);
    }
  });
  triggers.forEach((trigger, i) => {
    if (!objectTypeIds.has(trigger.object_type_id)) {
      problems.push(`triggers[${i}] names unknown object type "${trigger.object_type_id}"`);
    }
    if (!workflowIds.has(trigger.workflow_id)) {
      problems.push(`triggers[${i}] names unknown workflow "${trigger.workflow_id}"`);
    }
  });
  if (problems.length > 0) {
    throw new Error(`The registry file ${String(path)} is invalid:\n  - ${problems.join('\n  - ')}`);
  }
  return { version: Number(seed.version ?? 1), capabilities, object_types: objectTypes, workflows, triggers };
}
