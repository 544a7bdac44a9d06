import { readFileSync } from 'node:fs';

import { parse } from 'yaml';

/**
 * Class → parent class, which a JSON Schema generated from LinkML does not carry (`is_a` is lost), so
 * that an abstract type such as `nmdc:DataGeneration` can be matched. Without a file only exact types
 * match.
 */
export class ClassHierarchy {
  private readonly parents: ReadonlyMap<string, string>;

  constructor(parents: Readonly<Record<string, string>> = {}) {
    this.parents = new Map(Object.entries(parents));
  }

  /** Reads a YAML or JSON map of class → parent; a file it cannot use stops the hub with the reason. */
  static fromFile(path: string): ClassHierarchy {
    let document: unknown;
    try {
      document = parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`The class hierarchy ${path} cannot be read: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new Error(`The class hierarchy ${path} must be a map of class → parent class`);
    }
    const parents: Record<string, string> = {};
    for (const [child, parent] of Object.entries(document)) {
      if (typeof parent !== 'string' || parent === '') {
        throw new Error(`The class hierarchy ${path} gives ${child} a parent that is not a class name`);
      }
      parents[child] = parent;
    }
    const hierarchy = new ClassHierarchy(parents);
    for (const child of Object.keys(parents)) {
      hierarchy.lineage(child, path);
    }
    return hierarchy;
  }

  /** Every class the hierarchy names, as child or parent. */
  known(): Set<string> {
    return new Set([...this.parents.keys(), ...this.parents.values()]);
  }

  /** The class and its ancestors, nearest first. */
  lineage(type: string, source = 'class hierarchy'): string[] {
    const seen = [type];
    for (let parent = this.parents.get(type); parent !== undefined; parent = this.parents.get(parent)) {
      if (seen.includes(parent)) {
        throw new Error(`The ${source} has a cycle through ${parent}`);
      }
      seen.push(parent);
    }
    return seen;
  }
}
