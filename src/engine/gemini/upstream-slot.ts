/**
 * Where one relive session's upstream session is kept between that session's connections. Each
 * connection's session object opens its own GatewaySession, but the upstream must outlive them:
 * a client that resumes (its own goAway rotation, a network blip) within the grace period finds
 * the same upstream session and goes on with its context instead of a re-seeded one.
 *
 * The grace period runs on the engine's clock, so a ManualClock decides when it ends.
 */
import type { SessionConfig } from '../../session/config.js';
import type { Clock, Timer } from '../../session/clock.js';
import type { UpstreamLink } from './upstream-link.js';

export interface SlotSettings {
  readonly clock: Clock;
  /** How long the upstream outlives the last connection that used it. */
  readonly graceMs: number;
  /** Opens the upstream session, from the settings of the connection that first needs it. */
  readonly openLink: (config: SessionConfig) => Promise<UpstreamLink>;
  /** The slot holds nothing any more: the engine forgets it. */
  readonly onEmpty: () => void;
}

export class UpstreamSlot {
  /** The upstream session, opening or open; undefined before it is first needed and after it failed to open. */
  private link: Promise<UpstreamLink> | undefined;
  /** The same link once open, for describe(). */
  private ready: UpstreamLink | undefined;
  /** Running while no connection uses the slot: the upstream is closed when it fires. */
  private grace: Timer | undefined;
  /** The session object of the newest connection: only its close starts the grace period. */
  private holder: object | undefined;

  constructor(private readonly settings: SlotSettings) {}

  /** A connection's session takes the slot over: whatever grace period ran is over. */
  hold(holder: object): void {
    this.holder = holder;
    this.stopGrace();
  }

  /** The upstream session, opened now if there is none; `opened` says whether this call opened it. */
  use(config: SessionConfig): { link: Promise<UpstreamLink>; opened: boolean } {
    this.stopGrace();
    if (this.link) return { link: this.link, opened: false };
    const link = this.settings.openLink(config);
    this.link = link;
    link.then(
      (l) => {
        if (this.link === link) this.ready = l;
      },
      () => {
        if (this.link === link) this.link = undefined;
      },
    );
    return { link, opened: true };
  }

  /** An upstream session is open or opening. */
  get inUse(): boolean {
    return this.link !== undefined;
  }

  /** What the control API shows: the upstream's state, 'connecting', or nothing before the first use. */
  describe(): Record<string, unknown> | undefined {
    if (this.ready) return { upstream: { ...this.ready.state, audioSentSeconds: round3(this.ready.relay.sentSeconds) } };
    return this.link ? { upstream: 'connecting' } : undefined;
  }

  /** `holder`'s connection ended: the upstream is kept for the grace period, then closed. */
  release(holder: object): void {
    // A connection that was taken over ends after its successor took the slot: not the slot's end.
    if (holder !== this.holder) return;
    this.holder = undefined;
    const link = this.link;
    if (!link) {
      this.settings.onEmpty();
      return;
    }
    this.stopGrace();
    this.grace = this.settings.clock.setTimer(this.settings.graceMs, () => {
      this.grace = undefined;
      this.settings.onEmpty();
      if (this.link !== link) return;
      this.close();
    });
  }

  /** Closes the upstream session now (the grace period ran out, or the server is closing). */
  close(): void {
    this.stopGrace();
    const link = this.link;
    this.link = undefined;
    this.ready = undefined;
    void link?.then((l) => l.close()).catch(() => undefined);
  }

  private stopGrace(): void {
    this.grace?.cancel();
    this.grace = undefined;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
