import { Global, Module } from '@nestjs/common';

import { USER_ACCOUNTS } from '../auth/accounts.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

/** User accounts for every role; authentication reads them through {@link USER_ACCOUNTS}. */
@Global()
@Module({
  providers: [UsersRepository, UsersService, { provide: USER_ACCOUNTS, useExisting: UsersRepository }],
  exports: [UsersRepository, UsersService, USER_ACCOUNTS],
})
export class UsersCoreModule {}
