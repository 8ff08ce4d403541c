import * as net from 'node:net';
import * as tls from 'node:tls';
import { Channel, type ChannelOptions } from './channel.js';
import { CoreError, errorText } from './errors.js';

/** Where and how to connect. */
export interface ConnectOptions extends Omit<ChannelOptions, 'remoteAddress' | 'remotePort'> {
  host?: string;
  port?: number;
  /** A Unix domain socket instead of host and port. */
  path?: string;
  /** Give up connecting after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** Implicit TLS (pop3s, ftps): the handshake completes before the channel is returned. */
  tls?: { servername?: string; ca?: string | Buffer | Array<string | Buffer>; rejectUnauthorized?: boolean };
}

/**
 * Opens an outgoing connection and returns its Channel, ready to carry an AsyncChat: the client
 * side uses the same machinery as the servers.
 */
export async function connect(options: ConnectOptions): Promise<Channel> {
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const target = options.path ?? `${options.host ?? '127.0.0.1'}:${options.port ?? 0}`;
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const base: net.NetConnectOpts = options.path
      ? { path: options.path }
      : { host: options.host ?? '127.0.0.1', port: options.port ?? 0, noDelay: true };
    const socket = options.tls
      ? tls.connect({
          ...(base as tls.ConnectionOptions),
          servername: options.tls.servername ?? (net.isIP(options.host ?? '') ? undefined : options.host),
          ca: options.tls.ca,
          rejectUnauthorized: options.tls.rejectUnauthorized ?? true,
        })
      : net.connect(base);
    const ready = options.tls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CoreError('timeout', `no connection to ${target} within ${timeoutMs} ms`));
    }, timeoutMs);
    const failed = (err: Error): void => {
      clearTimeout(timer);
      reject(new CoreError('connect-failed', `cannot connect to ${target}: ${errorText(err)}`, { cause: err }));
    };
    socket.once(ready, () => {
      clearTimeout(timer);
      // Only our own listener: a TLS socket has one of its own that must stay.
      socket.off('error', failed);
      resolve(socket);
    });
    socket.once('error', failed);
  });
  return new Channel(socket, options);
}
