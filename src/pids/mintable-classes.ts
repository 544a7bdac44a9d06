/** A class of the metadata schema as the minter sees it. */
export interface MintableClass {
  readonly uri: string;
  /** The first is the one new ids are minted with; none means no id can be minted for the class. */
  readonly typecodes: readonly string[];
  readonly idPrefix?: string;
}

/**
 * What the minter needs of the metadata schema. The metadata module provides it (its loaded schema), so
 * the minter stays below metadata: metadata records minted ids as registered, and nothing here imports it.
 */
export interface MintableClasses {
  readonly idPrefix: string | undefined;
  classes(): readonly MintableClass[];
  classNamed(name: string): MintableClass | undefined;
}

export const MINTABLE_CLASSES = Symbol('MINTABLE_CLASSES');
