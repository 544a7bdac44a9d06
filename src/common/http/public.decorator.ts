import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'runtime-hub:public';

/** Marks a route as reachable without a bearer token; every other route requires one. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
