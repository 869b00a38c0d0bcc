/**
 * A TCP proxy on 127.0.0.1 that a test controls, to inject connection faults between a
 * client and a server: drop every open connection, or refuse the next N.
 */
import net from "node:net";

/** A running proxy. */
export interface TcpProxy {
  port: number;
  /** Connections accepted (refused ones included). */
  readonly accepted: number;
  /** Connections refused so far. */
  readonly refused: number;
  /** Destroys every open connection (both sides). */
  dropAll(): void;
  /** Closes the next `n` connections as soon as they are accepted. */
  refuseNext(n: number): void;
  close(): Promise<void>;
}

/** Starts a proxy to `targetPort` on 127.0.0.1. */
export function startProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let refuse = 0;
  let accepted = 0;
  let refused = 0;
  const server = net.createServer((client) => {
    accepted++;
    if (refuse > 0) {
      refuse--;
      refused++;
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, "127.0.0.1");
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        port,
        get accepted() {
          return accepted;
        },
        get refused() {
          return refused;
        },
        dropAll() {
          for (const socket of open) socket.destroy();
          open.clear();
        },
        refuseNext(n) {
          refuse = n;
        },
        close() {
          for (const socket of open) socket.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}
