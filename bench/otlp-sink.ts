// A stand-in OTLP/HTTP collector for measuring tracing's cost: answers 200 to every export, counts batches and bytes.
import { createServer } from 'node:http';

// A tool, not the service: it reads its own argument (the port; the collector's usual 4318 by default).
const port = Number(process.argv[2] ?? 4318);
let batches = 0;
let bytes = 0;

const server = createServer((request, response) => {
  request.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  request.on('end', () => {
    if (request.method === 'POST' && request.url === '/v1/traces') batches += 1;
    // An empty ExportTraceServiceResponse: in protobuf, zero bytes.
    response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});

const report = (): void => console.log(JSON.stringify({ batches, bytes }));
server.listen(port, '127.0.0.1', () => console.error(`OTLP sink on http://127.0.0.1:${port} (POST /v1/traces); SIGINT/SIGTERM prints the counts`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    report();
    server.close();
    process.exit(0);
  });
}
