/**
 * Feeds the presence service from the Asterisk links: live AMI and ARI
 * events, and a full resync (PJSIPShowEndpoints + PJSIPShowContacts +
 * DeviceStateList, SIPpeers where chan_sip is loaded, QueueStatus for queue
 * pauses where app_queue is) after every (re)connect
 * of either link. Live signals that arrive while a resync is running are held
 * and applied after the snapshot, so an old snapshot never overwrites a newer
 * event.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { amiPresenceSignal, amiSnapshot, ariPresenceSignal } from '../asterisk/presence-signals.js';
import type { PresenceSignal } from './model.js';
import type { PresenceService } from './service.js';

type AmiMessage = Record<string, string | string[]>;

/** The part of the AMI client the feed needs. */
export interface AmiLink extends EventEmitter {
  readonly connected: boolean;
  listAction(fields: Record<string, string>): Promise<{ events: AmiMessage[] }>;
}

export interface AriLink extends EventEmitter {
  readonly connected: boolean;
}

export class PresenceFeed {
  private resyncing = false;
  private again = false;
  private held: PresenceSignal[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly presence: PresenceService,
    private readonly ami: AmiLink,
    private readonly ari: AriLink | undefined,
    private readonly log: Logger,
    private readonly retryMs = 5000,
    /** after a contact (re)registers, how long to wait before reading its user agent with a resync */
    private readonly contactRefreshMs = 1000,
  ) {
    ami.on('connected', this.onConnected);
    ami.on('event', this.onAmiEvent);
    ari?.on('connected', this.onConnected);
    ari?.on('event', this.onAriEvent);
    presence.on('lost', this.onLost);
  }

  /** A change the database took in its savepoint but never committed (src/db/batch.ts): read back by a resync. */
  private readonly onLost = (err: Error): void => {
    this.log.error({ err: err.message }, `presence change could not be stored, resyncing in ${this.retryMs} ms`);
    this.retrySoon();
  };

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.refreshTimer);
    this.ami.off('connected', this.onConnected);
    this.ami.off('event', this.onAmiEvent);
    this.ari?.off('connected', this.onConnected);
    this.ari?.off('event', this.onAriEvent);
    this.presence.off('lost', this.onLost);
  }

  private readonly onConnected = (): void => {
    void this.resync();
  };

  private readonly onAmiEvent = (msg: AmiMessage): void => {
    const sig = amiPresenceSignal(msg);
    if (sig) this.signal(sig);
  };

  private readonly onAriEvent = (ev: Record<string, unknown>): void => {
    const sig = ariPresenceSignal(ev);
    if (sig) this.signal(sig);
  };

  private signal(sig: PresenceSignal): void {
    if (this.resyncing) this.held.push(sig);
    else this.applyLive(sig);
    // ContactStatus carries no user agent: a (re)registered contact is read back with the next resync.
    if (sig.kind === 'contact' && /^(reachable|nonqualified|created|updated)$/i.test(sig.status)) this.refreshSoon();
  }

  /**
   * A live signal whose change cannot be stored (the database refuses writes)
   * is not lost: the resync that follows, retried until it can be written,
   * reads the current state back from Asterisk.
   */
  private applyLive(sig: PresenceSignal): void {
    try {
      this.presence.apply(sig);
    } catch (err) {
      this.log.error({ err: (err as Error).message, sip: sig.sip }, `presence change could not be stored, resyncing in ${this.retryMs} ms`);
      this.retrySoon();
    }
  }

  private retrySoon(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.resync();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private refreshSoon(): void {
    if (this.refreshTimer || this.stopped) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.resync();
    }, this.contactRefreshMs);
    this.refreshTimer.unref();
  }

  /** Runs one resync now (or right after the one in progress). */
  private refusedLogged = false;

  async resync(): Promise<void> {
    if (this.resyncing) {
      this.again = true;
      return;
    }
    if (this.stopped || !this.ami.connected) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.resyncing = true;
    try {
      const refused = new Set<string>();
      const [endpoints, contacts, deviceStates, sipPeers, queueMembers] = await Promise.all([
        this.list('PJSIPShowEndpoints', refused),
        this.list('PJSIPShowContacts'),
        this.list('DeviceStateList'),
        this.list('SIPpeers'),
        this.list('QueueStatus'),
      ]);
      const endpointsRefused = refused.has('PJSIPShowEndpoints');
      if (endpointsRefused && !this.refusedLogged) {
        this.refusedLogged = true;
        this.log.warn('Asterisk refuses PJSIPShowEndpoints to this AMI user (no "system" write class): endpoints are taken from DeviceStateList, without contacts and user agents');
      }
      this.presence.resync(amiSnapshot({ endpoints, contacts, deviceStates, sipPeers, queueMembers, endpointsRefused }), 'AMI');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, `presence resync failed, retrying in ${this.retryMs} ms`);
      this.retrySoon();
    } finally {
      this.resyncing = false;
      const held = this.held;
      this.held = [];
      for (const sig of held) this.applyLive(sig);
    }
    if (this.again) {
      this.again = false;
      await this.resync();
    }
  }

  /**
   * One list action's items. An Error answer means "nothing to list" for the
   * quirks Asterisk has ("No Contacts found", SIPpeers without chan_sip,
   * QueueStatus without app_queue: then nobody is paused);
   * timeouts and lost connections still fail the resync.
   */
  private async list(action: string, refused?: Set<string>): Promise<AmiMessage[]> {
    try {
      return (await this.ami.listAction({ Action: action })).events;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ACTION_FAILED') {
        if (/permission denied/i.test((err as Error).message)) refused?.add(action);
        return [];
      }
      throw err;
    }
  }
}
