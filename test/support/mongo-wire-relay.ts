import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * Just enough of the MongoDB wire protocol to tell commands apart: every message starts with a
 * 16-byte header (int32 messageLength, requestID, responseTo, opCode), and the command of an
 * OP_MSG is the first key of its body section, kind 0
 * (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/).
 */
const HEADER_BYTES = 16;
const OP_MSG = 2013;
/** The driver's heartbeat: `hello`, or `isMaster` when the server did not answer helloOk. */
const HEARTBEATS = new Set(['hello', 'ismaster']);

/** Cuts a byte stream into whole wire messages. */
class MessageSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const messages: Buffer[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readInt32LE(0);
      if (this.pending.length < length) break;
      messages.push(this.pending.subarray(0, length));
      this.pending = this.pending.subarray(length);
    }
    return messages;
  }
}

/** The command an OP_MSG carries; undefined for other opcodes (the handshake is an OP_QUERY). */
function commandName(message: Buffer): string | undefined {
  if (message.length <= HEADER_BYTES + 4 || message.readInt32LE(12) !== OP_MSG) return undefined;
  let offset = HEADER_BYTES + 4; // after flagBits
  while (offset < message.length) {
    if (message[offset] === 0) {
      // Kind 0, one BSON document: int32 size, then its first element (type byte, cstring name).
      const nameStart = offset + 1 + 4 + 1;
      return message.toString('utf8', nameStart, message.indexOf(0, nameStart));
    }
    // Kind 1, a document sequence: its int32 size follows the kind byte.
    offset += 1 + message.readInt32LE(offset + 1);
  }
  return undefined;
}

/** One client connection and its connection to the server. */
class Link {
  /** The OP_MSG commands the client sent, by name. */
  readonly commands: string[] = [];
  /** Requests sent to the server and not answered yet. */
  unanswered = 0;
  /** Set when this link holds a command back: nothing more goes to the server. */
  held = false;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
  ) {}

  /** The driver's monitor: its connection sends heartbeats and nothing else. */
  get isMonitor(): boolean {
    return (
      this.commands.length > 0 && this.commands.every((name) => HEARTBEATS.has(name.toLowerCase()))
    );
  }

  destroy(): void {
    this.upstream.destroy();
    this.client.destroy();
  }
}

/**
 * A TCP relay between the MongoDB driver and one server that can hold one command back and
 * end every client connection at once, in a chosen order: a fault test uses it to make the
 * server's going away meet the driver the same way every time.
 */
export class MongoWireRelay {
  private readonly links = new Set<Link>();
  private accepting = true;
  private holding?: { command: string; held: () => void };
  private heartbeatWaiters: (() => void)[] = [];
  private readonly server: Server;
  port = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(target: { host: string; port: number }): Promise<MongoWireRelay> {
    const relay = new MongoWireRelay(target);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    const address = relay.server.address();
    if (address === null || typeof address === 'string') throw new Error('no relay port');
    relay.port = address.port;
    return relay;
  }

  get url(): string {
    return `mongodb://127.0.0.1:${this.port}`;
  }

  private relay(client: Socket): void {
    if (!this.accepting) {
      client.destroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    const link = new Link(client, upstream);
    this.links.add(link);
    for (const socket of [client, upstream]) {
      socket.on('error', () => link.destroy());
      socket.on('close', () => {
        link.destroy();
        this.links.delete(link);
      });
    }
    const requests = new MessageSplitter();
    client.on('data', (chunk: Buffer) => {
      for (const message of requests.push(chunk)) {
        if (link.held) return;
        const command = commandName(message);
        if (command !== undefined) link.commands.push(command);
        if (command !== undefined && command === this.holding?.command) {
          link.held = true;
          this.holding.held();
          this.holding = undefined;
          return;
        }
        link.unanswered++;
        upstream.write(message);
      }
    });
    const answers = new MessageSplitter();
    upstream.on('data', (chunk: Buffer) => {
      for (const message of answers.push(chunk)) {
        link.unanswered--;
        client.write(message);
        if (link.isMonitor) for (const waiter of this.heartbeatWaiters.splice(0)) waiter();
      }
    });
  }

  /** Resolves once the next `command` a client sends is held back (never sent to the server). */
  hold(command: string): Promise<void> {
    return new Promise((resolve) => (this.holding = { command, held: resolve }));
  }

  /** Resolves once the monitor's next heartbeat is answered (written to the driver). */
  nextHeartbeat(): Promise<void> {
    return new Promise((resolve) => this.heartbeatWaiters.push(resolve));
  }

  /** The monitor's link, once the relay has seen a heartbeat on it. */
  private get monitor(): Link | undefined {
    return [...this.links].find((link) => link.isMonitor);
  }

  /** The monitor is connected and between heartbeats. */
  get monitorIdle(): boolean {
    const monitor = this.monitor;
    return monitor !== undefined && monitor.unanswered === 0;
  }

  /**
   * Ends every connection, as a server that went away, and refuses new ones until `restore()`.
   * The client connections end in one go, so the driver reads all their ends in one event-loop
   * iteration and destroys its sockets in this order in the next: the others, the monitor's,
   * then the one holding a command. The 'close' callbacks come later in that iteration
   * (https://docs.libuv.org/en/v1.x/design.html), newest first (libuv stacks them:
   * uv__make_close_pending in src/unix/core.c), so the held command fails while the monitor's
   * socket is destroyed and not yet closed.
   */
  cut(): void {
    this.accepting = false;
    const monitor = this.monitor;
    const held = [...this.links].filter((link) => link.held);
    const others = [...this.links].filter((link) => link !== monitor && !link.held);
    for (const link of [...others, ...(monitor ? [monitor] : []), ...held]) link.destroy();
    this.links.clear();
  }

  /** Accepts connections again. */
  restore(): void {
    this.accepting = true;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
