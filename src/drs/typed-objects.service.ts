import { Injectable } from '@nestjs/common';

import { ObjectsRepository } from './objects.repository.js';

/** Objects by their type labels, for features that act on typed objects (the jobs their triggers ask for). */
@Injectable()
export class TypedObjectsService {
  constructor(private readonly objects: ObjectsRepository) {}

  /** Objects carrying any of `types`, at most `limit` of them: their ids and all their types. */
  findTyped(types: readonly string[], limit: number): Promise<{ id: string; types: string[] }[]> {
    return this.objects.findTyped(types, limit);
  }
}
