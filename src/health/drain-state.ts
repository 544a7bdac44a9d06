import { Injectable } from '@nestjs/common';

/**
 * Whether this process is draining: it got SIGTERM, answers readiness with 503 so load balancers stop
 * sending it new requests, and keeps serving what still arrives until the drain period ends and the
 * server closes. One per process; nothing else needs to know about it.
 */
@Injectable()
export class DrainState {
  private drainingSince: number | undefined;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  start(now = Date.now()): void {
    this.drainingSince ??= now;
  }
}
