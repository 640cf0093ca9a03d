// One request through a (req, res) handler in-process, without a socket: a real IncomingMessage and
// ServerResponse on a Duplex that drops what is written. No load generator competes for the cores
// and no kernel networking adds its noise. (light-my-request was tried first: it keeps ~10 KB of
// every request alive — heapwatch found it in writeHead and Request — which makes a long run
// slower as its heap grows.)
import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';

/** Resolves with the status code once the handler has finished the response. */
export function inject(handler, url) {
  return new Promise((resolve) => {
    const socket = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
    socket.remoteAddress = '127.0.0.1';
    const req = new IncomingMessage(socket);
    req.method = 'GET';
    req.url = url;
    req.headers = { host: 'localhost', 'user-agent': 'bench' };
    req.httpVersion = '1.1';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.push(null);
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    res.on('finish', () => {
      res.detachSocket(socket);
      socket.destroy();
      resolve(res.statusCode);
    });
    handler(req, res);
  });
}
