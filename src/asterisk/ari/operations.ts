import { EventEmitter } from 'node:events';
import { AriHttpError } from './errors.js';
import { seg, type RestRequest } from './rest.js';
import type { AriBridge, AriChannel, AriEndpoint, AriLiveRecording, AriPlayback } from './types.js';

export interface OriginateParams {
  /** dial string, e.g. PJSIP/1000 or PJSIP/79001234567@clients */
  endpoint: string;
  /** passed to the app in StasisStart.args; joined with commas, so no element may contain a comma, CR or LF */
  appArgs?: string[];
  /** e.g. "79001234567" <79001234567> */
  callerId?: string;
  /** seconds to wait for an answer */
  timeout?: number;
  /** channel variables, sent in the JSON body as {"variables": {...}} */
  variables?: Record<string, string>;
  channelId?: string;
  /** id of the channel that caused this one (for linkedid / CDR grouping) */
  originator?: string;
  /** instead of the app: the dialplan the answered channel runs (which may enter the app itself) */
  dialplan?: { context: string; extension: string; priority?: number };
}

export interface CreateBridgeParams {
  /** comma-separated bridge flags; default "mixing" */
  type?: string;
  name?: string;
  bridgeId?: string;
}

export interface RecordBridgeParams {
  name: string;
  format: string;
  /** fail (Asterisk's default), overwrite, append */
  ifExists?: string;
  beep?: boolean;
}

/**
 * The ARI operations the daemon uses, as REST calls under /ari. The transport
 * (`call`) is provided by AriClient. All methods are async: invalid arguments
 * and failures are rejections, never synchronous throws.
 */
export abstract class AriOperations extends EventEmitter {
  /** Stasis application name the client registers */
  protected abstract readonly appName: string;
  protected abstract call<T>(method: string, path: string, req?: RestRequest): Promise<T>;

  async listEndpoints(): Promise<AriEndpoint[]> {
    return this.call<AriEndpoint[]>('GET', '/endpoints');
  }

  /** Rejects with AriHttpError 404 {"message":"Endpoint not found"} for an unknown endpoint. */
  async getEndpoint(tech: string, resource: string): Promise<AriEndpoint> {
    return this.call<AriEndpoint>('GET', `/endpoints/${seg(tech)}/${seg(resource)}`);
  }

  /** Subscribes the app to an event source, e.g. endpoint:PJSIP (all PJSIP endpoints) or endpoint:PJSIP/1000. */
  async subscribe(eventSource: string): Promise<void> {
    await this.call('POST', `/applications/${seg(this.appName)}/subscription`, { query: { eventSource } });
  }

  async listChannels(): Promise<AriChannel[]> {
    return this.call<AriChannel[]>('GET', '/channels');
  }

  async getChannel(id: string): Promise<AriChannel> {
    return this.call<AriChannel>('GET', `/channels/${seg(id)}`);
  }

  /**
   * Creates a channel that enters this client's Stasis app when answered.
   * Answers at once with the channel in state Down; an offline endpoint is
   * AriHttpError 500 {"error":"Allocation failed"}.
   */
  async originate(p: OriginateParams): Promise<AriChannel> {
    if (!p.endpoint) throw new TypeError('originate: endpoint is required');
    const appArgs = p.appArgs?.map((arg, i) => checkAppArg(arg, i)).join(',');
    noLineBreak('callerId', p.callerId);
    if (p.timeout !== undefined && (!Number.isInteger(p.timeout) || p.timeout < -1)) {
      throw new RangeError(`originate: timeout must be an integer number of seconds, got ${p.timeout}`);
    }
    const target = p.dialplan
      ? { context: p.dialplan.context, extension: p.dialplan.extension, priority: p.dialplan.priority ?? 1 }
      : { app: this.appName, appArgs };
    return this.call<AriChannel>('POST', '/channels', {
      query: {
        endpoint: p.endpoint,
        ...target,
        callerId: p.callerId,
        timeout: p.timeout,
        channelId: p.channelId,
        originator: p.originator,
      },
      body: p.variables ? { variables: p.variables } : undefined,
    });
  }

  /** Hangs up a channel; resolves false when it was already gone (404). */
  async hangup(channelId: string, reason?: string): Promise<boolean> {
    return trueUnlessNotFound(this.call('DELETE', `/channels/${seg(channelId)}`, { query: { reason } }));
  }

  /** Indicates ringing to the channel. */
  async ring(channelId: string): Promise<void> {
    await this.call('POST', `/channels/${seg(channelId)}/ring`);
  }

  async answer(channelId: string): Promise<void> {
    await this.call('POST', `/channels/${seg(channelId)}/answer`);
  }

  async createBridge(p: CreateBridgeParams = {}): Promise<AriBridge> {
    return this.call<AriBridge>('POST', '/bridges', {
      query: { type: p.type ?? 'mixing', name: p.name, bridgeId: p.bridgeId },
    });
  }

  async addChannel(bridgeId: string, channelId: string): Promise<void> {
    await this.call('POST', `/bridges/${seg(bridgeId)}/addChannel`, { query: { channel: channelId } });
  }

  async removeChannel(bridgeId: string, channelId: string): Promise<void> {
    await this.call('POST', `/bridges/${seg(bridgeId)}/removeChannel`, { query: { channel: channelId } });
  }

  /** Every bridge Asterisk has (GET /bridges), with the channels in each. */
  async listBridges(): Promise<AriBridge[]> {
    return this.call<AriBridge[]>('GET', '/bridges');
  }

  /** Destroys a bridge; resolves false when it was already gone (404). */
  async destroyBridge(bridgeId: string): Promise<boolean> {
    return trueUnlessNotFound(this.call('DELETE', `/bridges/${seg(bridgeId)}`));
  }

  /** Plays media (e.g. tone:ring, sound:hello-world) to everyone in the bridge. */
  async playOnBridge(bridgeId: string, media: string): Promise<AriPlayback> {
    return this.call<AriPlayback>('POST', `/bridges/${seg(bridgeId)}/play`, { query: { media } });
  }

  /** Stops a playback; resolves false when it was already gone (404). */
  async stopPlayback(playbackId: string): Promise<boolean> {
    return trueUnlessNotFound(this.call('DELETE', `/playbacks/${seg(playbackId)}`));
  }

  /** Stops a live recording, which finishes its file; resolves false when it was not recording (404). */
  async stopRecording(name: string): Promise<boolean> {
    return trueUnlessNotFound(this.call('POST', `/recordings/live/${seg(name)}/stop`));
  }

  /** Starts recording the bridge's mixed audio (answer 201, state queued). */
  async recordBridge(bridgeId: string, p: RecordBridgeParams): Promise<AriLiveRecording> {
    if (!p.name || !p.format) throw new TypeError('recordBridge: name and format are required');
    return this.call<AriLiveRecording>('POST', `/bridges/${seg(bridgeId)}/record`, {
      query: { name: p.name, format: p.format, ifExists: p.ifExists, beep: p.beep },
    });
  }
}

function checkAppArg(arg: string, index: number): string {
  if (typeof arg !== 'string') throw new TypeError(`originate: appArgs[${index}] must be a string`);
  if (/[,\r\n]/.test(arg)) {
    throw new RangeError(
      `originate: appArgs[${index}] ${JSON.stringify(arg)} contains a comma, CR or LF; ` +
        'Asterisk splits appArgs on commas, so it would not arrive as one argument',
    );
  }
  return arg;
}

function noLineBreak(name: string, value: string | undefined): void {
  if (value !== undefined && /[\r\n]/.test(value)) {
    throw new RangeError(`originate: ${name} must not contain CR or LF`);
  }
}

async function trueUnlessNotFound(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (err) {
    if (err instanceof AriHttpError && err.status === 404) return false;
    throw err;
  }
}
