// The $export peer for bench/bulk.ts in a process of its own (so the benchmark's memory figure is
// the connector's): serves the ndjson files named in argv[2] (a JSON list of { type, path, lines })
// and prints its base URL.
import { readFileSync } from 'node:fs';
import { startBulkExportServer } from '../../test/peers/bulk-export-server.ts';

const files = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Array<{ type: string; path: string; lines: number }>;
const server = await startBulkExportServer({ pollsBeforeReady: 0, requiresAccessToken: false }, {});
server.serveFiles(files);
console.log(server.baseUrl);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
