import type * as net from 'node:net';

/** What a listener does with the connections a handed-off socket accepts. */
export type ConnectionSink = (socket: net.Socket) => void;

/**
 * A bound listening socket on its way from one listener to another (a reload that rebuilds a
 * server with new settings on the same address): the port stays bound the whole time, so no
 * client is refused. Connections the kernel hands over before the new owner takes it are held
 * here (paused, nothing read) and given to the new owner in order. One owner takes it, once.
 * Made by `Listener.handOff()` / `GorgonServer.handOff()`, taken by `listen(handoff)`.
 */
export class ListenerHandoff {
  readonly #server: net.Server;
  readonly #held: net.Socket[] = [];
  #taken = false;
  readonly #hold = (socket: net.Socket): void => {
    this.#held.push(socket);
  };
  // An accept error meanwhile (EMFILE) must not be an unhandled 'error' event; the new owner's
  // listener hears the next one.
  readonly #ignoreError = (): void => {};

  /** @internal Made by a listener that gives up `server` (it must stop watching its `connection` events first). */
  constructor(server: net.Server) {
    this.#server = server;
    server.on('connection', this.#hold);
    server.on('error', this.#ignoreError);
  }

  /** The address the socket is bound to. */
  get address(): net.AddressInfo | string | null {
    return this.#server.address();
  }

  /** Whether a listener took it already (or it was closed). */
  get taken(): boolean {
    return this.#taken;
  }

  /** @internal The new owner takes the socket: held connections go to `sink` first, then new ones. */
  take(sink: ConnectionSink): net.Server {
    if (this.#taken) throw new Error('this listener handoff was already taken or closed');
    this.#taken = true;
    this.#server.off('connection', this.#hold);
    this.#server.off('error', this.#ignoreError);
    this.#server.on('connection', sink);
    for (const socket of this.#held.splice(0)) sink(socket);
    return this.#server;
  }

  /** Unbinds the socket when nobody will take it (a reload given up); held connections are dropped. */
  close(): Promise<void> {
    if (this.#taken) return Promise.resolve();
    this.#taken = true;
    this.#server.off('connection', this.#hold);
    for (const socket of this.#held.splice(0)) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
