import { Inject, Injectable } from '@nestjs/common';

import { USER_ACCOUNTS, type UserAccounts } from '../auth/accounts.js';
import { AuthService } from '../auth/auth.service.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import { ForbiddenError, UnauthorizedError } from '../common/errors/domain-errors.js';
import type { ObjectDoc } from './object.model.js';

/**
 * Who may read and change objects. Objects are public unless `controlled`; a controlled object is read
 * by its managing site (its clients and admins), by users holding `objects:admin`, and by the readers
 * listed on it. Changes are for the managing site and `objects:admin`.
 */
@Injectable()
export class ObjectAccessPolicy {
  constructor(
    private readonly auth: AuthService,
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
  ) {}

  async canRead(principal: Principal | undefined, doc: ObjectDoc): Promise<boolean> {
    if (!doc.controlled) {
      return true;
    }
    if (!principal) {
      return false;
    }
    if (doc.readers.includes(describePrincipal(principal))) {
      return true;
    }
    return this.canManage(principal, doc);
  }

  /** Throws 401 for an anonymous caller and 403 for a caller who may not read `doc`. */
  async assertReadable(principal: Principal | undefined, doc: ObjectDoc): Promise<void> {
    if (!doc.controlled) {
      return;
    }
    if (!principal) {
      throw new UnauthorizedError(
        `Object "${doc.id}" is controlled: send "Authorization: Bearer <token>" with a token from POST /token`,
      );
    }
    if (!(await this.canRead(principal, doc))) {
      throw new ForbiddenError(
        `${describePrincipal(principal)} may not read controlled object "${doc.id}"; its managing site or an objects admin can add you to its readers`,
      );
    }
  }

  async canManage(principal: Principal, doc: ObjectDoc): Promise<boolean> {
    return (
      (await this.auth.holdsAllowance(principal, 'objects:admin')) ||
      (await this.auth.canManageSite(principal, doc.mgr_site))
    );
  }

  async assertManageable(principal: Principal, doc: ObjectDoc): Promise<void> {
    if (!(await this.canManage(principal, doc))) {
      throw new ForbiddenError(
        `Only site "${doc.mgr_site}" (its clients or admins) or a user with the "objects:admin" allowance may change object "${doc.id}"`,
      );
    }
  }

  /** A Mongo condition matching the objects `principal` may read; undefined when they may read all. */
  async readableFilter(principal: Principal | undefined): Promise<Record<string, unknown> | undefined> {
    if (!principal) {
      return { controlled: false };
    }
    if (await this.auth.holdsAllowance(principal, 'objects:admin')) {
      return undefined;
    }
    const managed =
      principal.kind === 'site'
        ? [principal.siteId]
        : ((await this.users.findByUsername(principal.username))?.site_admin ?? []);
    return {
      $or: [{ controlled: false }, { readers: describePrincipal(principal) }, { mgr_site: { $in: managed } }],
    };
  }
}
