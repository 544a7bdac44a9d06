import { Global, Module } from '@nestjs/common';

import { Paginator } from './pagination/paginator.js';

@Global()
@Module({ providers: [Paginator], exports: [Paginator] })
export class CommonModule {}
